"""Small pieces every layer uses: id rules, key files, private files, SQLite.

Standard library only, so that importing them (for example to check a signed command) pulls in
neither numpy nor OpenCV.
"""
