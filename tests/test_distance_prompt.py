"""'Come closer': when the door starts and stops asking, from the face's size per frame."""

from __future__ import annotations

from facegate.access.distance_prompt import ComeCloser, DistancePrompt


def test_it_asks_once_the_face_has_been_small_for_a_few_frames_and_stops_once_close() -> None:
    prompt = DistancePrompt(130, frames_to_change=5)
    assert [prompt.update(100) for _ in range(4)] == [None] * 4
    assert prompt.update(100) == ComeCloser(True) and prompt.on
    assert [prompt.update(100) for _ in range(10)] == [None] * 10  # said once, not every frame
    assert [prompt.update(160) for _ in range(4)] == [None] * 4
    assert prompt.update(160) == ComeCloser(False) and not prompt.on


def test_a_face_on_the_edge_does_not_make_it_flicker() -> None:
    prompt = DistancePrompt(130, frames_to_change=5)
    sizes = [125, 135] * 20  # alternating around the limit
    assert all(prompt.update(s) is None for s in sizes) and not prompt.on


def test_no_limit_never_asks() -> None:
    prompt = DistancePrompt(0)
    assert all(prompt.update(10) is None for _ in range(20))
