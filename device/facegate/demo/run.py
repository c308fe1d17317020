"""``facegate demo``: enrol two people from real photos, identify fresh shots, reject a stranger.

Everything runs through the same code as ``facegate enroll`` and ``facegate identify``: photo
files, the quality gate, the encrypted gallery, the SVM and the open-set threshold.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from facegate.config import Settings
from facegate.demo import material
from facegate.identity.enrolment import Enroller, PhotoOutcome
from facegate.identity.gallery import open_configured_gallery
from facegate.identity.recognizer import Recognizer
from facegate.vision.detection import main_face
from facegate.vision.image_io import load_image
from facegate.vision.pipeline import FacePipeline
from facegate.vision.quality import QualityGate

ENROL_SHOTS = 6
PROBE_SHOTS = 4


@dataclass
class DemoResult:
    recognised: int
    genuine_probes: int
    strangers_rejected: int
    stranger_probes: int
    refusals_as_expected: bool

    @property
    def ok(self) -> bool:
        return (
            self.recognised == self.genuine_probes
            and self.strangers_rejected == self.stranger_probes
            and self.refusals_as_expected
        )


def _write(folder: Path, name: str, image: np.ndarray) -> Path:
    path = folder / name
    cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    return path


def _describe(outcome: PhotoOutcome) -> str:
    if not outcome.accepted:
        return f"REFUSED  {outcome.code}: {outcome.message}"
    m = outcome.metrics
    return (
        f"accepted face {m['face_px']:.0f} px, sharpness {m['sharpness']:.0f}, "
        f"yaw {m['yaw_deg']:+.0f}°, eyes {min(m['ear_left'], m['ear_right']):.2f}"
    )


def run_demo(
    settings: Settings, echo: Callable[[str], None], keep: Path | None = None
) -> DemoResult:
    work = Path(tempfile.mkdtemp(prefix="facegate-demo-"))
    try:
        data_dir = keep or work / "data"
        settings = settings.model_copy(
            update={
                "paths": settings.paths.model_copy(update={"data_dir": data_dir, "key_file": None})
            }
        )
        photos = work / "photos"
        photos.mkdir()
        echo("facegate demo: enrol from real photos, identify fresh shots, reject a stranger")
        echo("photos ship inside installed packages (scikit-image, matplotlib); no download\n")
        pipeline = FacePipeline.from_settings(settings)
        echo(
            f"models verified and loaded: MTCNN + Haar detectors, dlib 68 landmarks, "
            f"{pipeline.embedder.name} embedder ({pipeline.embedder.dim}-D)"
        )
        echo(f"gallery: {settings.paths.gallery_path()} (sealed with a new key file)\n")

        people = [material.ASTRONAUT, material.HOPPER]
        originals = {p.student_id: material.load_photo(p) for p in people}
        stranger = material.load_photo(material.CAMERAMAN)

        enroller = Enroller(pipeline, QualityGate(settings.quality))
        echo("1. Enrolment: every photo passes the quality gate or is refused with the reason")
        refusals_ok = True
        with open_configured_gallery(
            settings.paths, pipeline.embedder.name, pipeline.embedder.dim, create=True
        ) as gallery:
            for i, person in enumerate(people):
                shots = [
                    _write(photos, f"{person.student_id}-enrol-{k + 1}.jpg", im)
                    for k, im in enumerate(
                        material.variants(originals[person.student_id], ENROL_SHOTS, seed=10 + i)
                    )
                ]
                if i == 0:
                    shots.append(
                        _write(
                            photos,
                            "out-of-focus.jpg",
                            material.blurred(originals[person.student_id]),
                        )
                    )
                    shots.append(
                        _write(photos, "two-people.jpg", material.side_by_side(*originals.values()))
                    )
                outcome = enroller.enroll(
                    gallery,
                    person.student_id,
                    person.name,
                    shots,
                    on_photo=lambda o: echo(f"   {o.path.name:<26} {_describe(o)}"),
                )
                if i == 0:
                    codes = {o.path.name: o.code for o in outcome.refused}
                    refusals_ok = (
                        codes.get("out-of-focus.jpg") == "blurry"
                        and codes.get("two-people.jpg") == "several_faces"
                    )
                echo(
                    f"   -> {person.student_id} ({person.name}): "
                    f"{outcome.stored} templates stored\n"
                )

            recognizer = Recognizer(pipeline, gallery, settings)
        echo(
            f"2. Identification: the nearest student's centroid names a candidate; its "
            f"distance (threshold {recognizer.threshold:.3f}) and the gap to the next student "
            f"(margin {recognizer.matcher.rule.margin:.3f}) decide ({recognizer.threshold_source})"
        )
        echo(f"   {'probe':<32}{'decision':<15}{'student':<15}{'distance':>9}{'gap':>8}")
        probes: list[tuple[str, str | None, np.ndarray]] = []
        for i, person in enumerate(people):
            for k, im in enumerate(
                material.variants(originals[person.student_id], PROBE_SHOTS, seed=100 + i)
            ):
                probes.append((f"{person.name}, new shot {k + 1}", person.student_id, im))
        probes.append((material.CAMERAMAN.name, None, stranger))

        recognised = rejected = 0
        for label, truth, image in probes:
            path = _write(photos, "probe.jpg", image)
            image = load_image(path)
            face = main_face(pipeline.mtcnn.detect(image), image.shape[1], image.shape[0])
            if face is None:
                echo(f"   {label:<32}{'no_face':<15}")
                rejected += truth is None
                continue
            match = recognizer.identify(pipeline.embedder.embed(image, face))
            who = match.candidate_id if match.accepted else f"({match.candidate_id})"
            gap = "-" if match.margin is None or match.margin >= 2 else f"{match.margin:.3f}"
            echo(f"   {label:<32}{match.reason:<15}{who:<15}{match.distance:>9.3f}{gap:>8}")
            if truth is None:
                rejected += not match.accepted
            else:
                recognised += match.accepted and match.student_id == truth
        n_genuine = len(probes) - 1
        result = DemoResult(recognised, n_genuine, rejected, 1, refusals_ok)
        echo(
            f"\n3. Result: {recognised}/{n_genuine} new shots of enrolled people recognised, "
            f"{rejected}/1 stranger rejected, quality refusals "
            f"{'as expected' if refusals_ok else 'NOT as expected'}"
        )
        echo("   (the gallery holds embeddings only, encrypted at rest; no photo was stored)")
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)
