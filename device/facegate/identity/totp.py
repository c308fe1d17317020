"""The second factor's rules: TOTP codes (RFC 6238), replays, guessing back-off, override codes.

Pure logic on plain data with the time passed in; the store (``second_factor.py``) keeps the
state. A code is 6 digits; the current 30 s step and one step either side are accepted (clock
drift of the student's phone); a step once used is never accepted again for that student;
three wrong codes are free, then each further one locks the student out for 30 s, doubling up
to an hour (FIDO asks for at least 30 s after 3 failures). An operator's one-time override
(HOTP, for a lost phone) is accepted once, before it expires.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace
from enum import StrEnum

import pyotp

STEP_S = 30
DIGITS = 6
DRIFT_STEPS = 1
FREE_FAILURES = 3
FIRST_LOCK_S = 30.0
MAX_LOCK_S = 3600.0


class CodeResult(StrEnum):
    """The outcome, named as the access event's reason."""

    ACCEPTED = "totp_ok"
    OVERRIDE = "override_ok"
    INVALID = "totp_invalid"
    REPLAYED = "totp_replayed"
    LOCKED_OUT = "locked_out"
    MALFORMED = "totp_malformed"
    NOT_ENROLLED = "totp_not_enrolled"


@dataclass(frozen=True)
class FactorState:
    """What is remembered per student between attempts (secrets are kept sealed elsewhere)."""

    last_step: int = -1
    failures: int = 0
    locked_until: float = 0.0


@dataclass(frozen=True)
class Override:
    """A one-time code an operator issued: HOTP secret and counter, valid until ``expires``."""

    secret: str
    counter: int
    expires: float


@dataclass(frozen=True)
class Verdict:
    result: CodeResult
    state: FactorState
    override_used: bool = False
    retry_after_s: float = 0.0

    @property
    def accepted(self) -> bool:
        return self.result in (CodeResult.ACCEPTED, CodeResult.OVERRIDE)


def lock_seconds(failures: int) -> float:
    """How long a student is locked out after ``failures`` wrong codes in a row."""
    if failures <= FREE_FAILURES:
        return 0.0
    return min(FIRST_LOCK_S * 2 ** (failures - FREE_FAILURES - 1), MAX_LOCK_S)


def well_formed(code: str) -> bool:
    return len(code) == DIGITS and code.isascii() and code.isdigit()


def matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step whose code this is (current one, or one either side), else None."""
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S)
    current = totp.timecode(now)
    found = None
    for offset in range(-DRIFT_STEPS, DRIFT_STEPS + 1):
        # Compare every candidate, in constant time, so timing does not tell which one matched.
        if hmac.compare_digest(totp.at(now, counter_offset=offset), code):
            found = current + offset
    return found


def check_code(
    code: str,
    now: float,
    state: FactorState,
    secret: str | None,
    override: Override | None = None,
) -> Verdict:
    """Judge one keypad entry. A malformed entry changes nothing; a locked-out student's
    entry is not even compared (and does not extend the lock)."""
    if not well_formed(code):
        return Verdict(CodeResult.MALFORMED, state)
    if now < state.locked_until:
        return Verdict(CodeResult.LOCKED_OUT, state, retry_after_s=state.locked_until - now)
    if override is not None and now < override.expires:
        expected = pyotp.HOTP(override.secret, digits=DIGITS).at(override.counter)
        if hmac.compare_digest(expected, code):
            return Verdict(CodeResult.OVERRIDE, replace(state, failures=0), override_used=True)
    if secret is None and override is None:
        return Verdict(CodeResult.NOT_ENROLLED, state)
    step = matching_step(secret, code, now) if secret is not None else None
    if step is not None and step > state.last_step:
        return Verdict(CodeResult.ACCEPTED, FactorState(last_step=step))
    failures = state.failures + 1
    lock = lock_seconds(failures)
    failed = replace(state, failures=failures, locked_until=now + lock if lock else 0.0)
    result = CodeResult.REPLAYED if step is not None else CodeResult.INVALID
    return Verdict(result, failed, retry_after_s=lock)
