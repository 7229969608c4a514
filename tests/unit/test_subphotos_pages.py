"""Synthetic page generator: determinism, ground truth that matches the pixels, input checks."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from benchmarks.subphoto_eval import iou, match_count
from benchmarks.synthetic_pages import (
    PhotoSource,
    compose_album_page,
    compose_web_screenshot,
    generate_pages,
    generated_photo,
    make_album_page,
    make_single_photo,
    make_web_screenshot,
)
from models.errors import InputError


def _photos(n: int, seed: int = 0) -> list[Image.Image]:
    return [generated_photo(seed * 100 + i) for i in range(n)]


def test_generated_photo_is_deterministic_rgb_and_varied():
    a, b = generated_photo(5), generated_photo(5)
    assert a.mode == "RGB"
    assert np.array_equal(np.asarray(a), np.asarray(b))
    assert not np.array_equal(np.asarray(generated_photo(6).resize(a.size)), np.asarray(a))
    assert np.asarray(a, dtype=np.float32).std() > 10  # photo-like content, not a flat fill


def test_album_page_is_deterministic():
    photos = _photos(4)
    one, two = make_album_page(photos, seed=11), make_album_page(photos, seed=11)
    assert one.boxes == two.boxes
    assert np.array_equal(np.asarray(one.image), np.asarray(two.image))
    assert make_album_page(photos, seed=12).boxes != one.boxes


@pytest.mark.parametrize("seed", range(12))
def test_album_boxes_lie_on_the_page_and_do_not_overlap(seed):
    n = 1 + seed % 9
    page = make_album_page(_photos(n, seed), seed)
    assert page.kind == "album"
    assert len(page.boxes) == len(page.print_boxes) == n
    width, height = page.image.size
    for (x, y, w, h), (px, py, pw, ph) in zip(page.boxes, page.print_boxes, strict=True):
        assert x >= 0 and y >= 0 and x + w <= width and y + h <= height and w > 8 and h > 8
        assert px <= x and py <= y and px + pw >= x + w and py + ph >= y + h  # print frames picture
    for i, a in enumerate(page.print_boxes):
        for b in page.print_boxes[i + 1 :]:
            assert iou(a, b) < 0.05


def test_ground_truth_box_frames_the_pasted_photo():
    # A flat red "photo" on a page: the box must hold red pixels, the ring around it must not.
    red = Image.new("RGB", (400, 300), (230, 20, 20))
    for seed in range(6):
        page = make_album_page([red, red], seed)
        pixels = np.asarray(page.image, dtype=np.int16)
        is_red = (pixels[..., 0] > 150) & (pixels[..., 1] < 90) & (pixels[..., 2] < 90)
        for x, y, w, h in page.boxes:
            inside = is_red[y + h // 4 : y + 3 * h // 4, x + w // 4 : x + 3 * w // 4]
            assert inside.mean() > 0.99
            ring = np.concatenate(
                [
                    is_red[max(0, y - 4), x : x + w],
                    is_red[min(pixels.shape[0] - 1, y + h + 3), x : x + w],
                    is_red[y : y + h, max(0, x - 4)],
                    is_red[y : y + h, min(pixels.shape[1] - 1, x + w + 3)],
                ]
            )
            assert ring.mean() < 0.02
        # Every red pixel belongs to some box (nothing pasted outside the ground truth).
        covered = np.zeros_like(is_red)
        for x, y, w, h in page.boxes:
            covered[max(0, y - 1) : y + h + 1, max(0, x - 1) : x + w + 1] = True
        assert (is_red & ~covered).sum() < 0.001 * is_red.sum()


def test_web_screenshot_has_one_photo_box():
    photo = generated_photo(3)
    page = make_web_screenshot(photo, seed=4)
    assert page.kind == "screenshot" and len(page.boxes) == 1
    _, _, w, h = page.boxes[0]
    assert abs(w / h - photo.width / photo.height) < 0.05
    assert w * h < 0.8 * page.image.width * page.image.height


def test_single_photo_has_no_boxes():
    page = make_single_photo(generated_photo(1), seed=2)
    assert page.kind == "single" and page.boxes == ()


def test_compose_functions_return_images_for_the_sample_archive():
    photos = _photos(3)
    album = compose_album_page(photos, seed=1)
    assert isinstance(album, Image.Image) and album.mode == "RGB"
    assert np.array_equal(np.asarray(album), np.asarray(make_album_page(photos, 1).image))
    shot = compose_web_screenshot(photos[0], seed=1)
    assert isinstance(shot, Image.Image) and shot.mode == "RGB"


@pytest.mark.parametrize("n", [0, 10])
def test_album_page_rejects_bad_photo_counts(n):
    with pytest.raises(InputError, match=str(n)):
        make_album_page(_photos(n), seed=0)


def test_generate_pages_mixes_kinds_deterministically():
    mix = (0.4, 0.3, 0.3)
    pages = list(generate_pages(10, seed=9, source=PhotoSource(), mix=mix))
    again = list(generate_pages(10, seed=9, source=PhotoSource(), mix=mix))
    assert [p.boxes for p in pages] == [p.boxes for p in again]
    kinds = {p.kind for p in pages}
    assert kinds == {"album", "screenshot", "single"}
    assert all(len(p.boxes) >= 2 for p in pages if p.kind == "album")


def test_iou_and_matching():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    truth = [(0, 0, 100, 100), (200, 0, 100, 100)]
    assert match_count(truth, [(1, 1, 99, 99), (2, 2, 98, 98)]) == 1  # one-to-one
    assert match_count(truth, [(0, 0, 100, 100), (205, 0, 95, 100)]) == 2
    # The print box (picture plus border) is an accepted alternative.
    assert match_count([(10, 10, 80, 80)], [(0, 0, 100, 100)]) == 0
    assert match_count([(10, 10, 80, 80)], [(0, 0, 100, 100)], alternatives=[(0, 0, 100, 100)]) == 1
