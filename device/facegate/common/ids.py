"""The one rule for student ids, shared by the gallery, rosters, commands and the keypad store."""

from __future__ import annotations

import re

# Letters, digits and _ . @ - (an e-mail address fits); at most 64; never a path or markup.
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
STUDENT_ID_RULE = "use 1-64 letters, digits, '_', '.', '@' or '-', starting with a letter or digit"


def is_student_id(value: object) -> bool:
    return isinstance(value, str) and STUDENT_ID.fullmatch(value) is not None
