"""The built-in demo: real photos that ship inside PyPI packages, no download at run time."""
