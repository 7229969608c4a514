import socket

import pytest


def test_connecting_outside_is_refused():
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock,
        pytest.raises(AssertionError, match="network"),
    ):
        sock.connect(("192.0.2.1", 80))  # TEST-NET-1: never routed


def test_connect_ex_outside_is_refused_too():
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock,
        pytest.raises(AssertionError, match="network"),
    ):
        sock.connect_ex(("198.51.100.7", 443))  # TEST-NET-2: never routed


def test_loopback_is_allowed():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client:
            client.connect(server.getsockname())
            accepted, peer = server.accept()
            with accepted:
                client.sendall(b"ping")
                assert accepted.recv(4) == b"ping"
                assert peer == client.getsockname()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client:
            assert client.connect_ex(("localhost", server.getsockname()[1])) == 0
