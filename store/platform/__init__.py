"""What differs between Linux, macOS and Windows, one concern per module (no Qt here).

Each module keeps its decisions in pure functions that take the platform and the raw inputs (a mount
table, a statfs buffer, a path string, an error number) as parameters, so every branch is unit-tested
on any machine; the calls into the operating system are thin and reached only on their platform.
"""
