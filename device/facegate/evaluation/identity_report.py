"""The text form of ``facegate eval identities``."""

from __future__ import annotations

from facegate.evaluation.identities import IdentityReport


def format_report(r: IdentityReport, per_person: bool = True) -> str:
    lines = [
        f"data set      {r.dataset}",
        f"embedder      {r.embedder}   matcher {r.method}   threshold {r.threshold:.3f} "
        f"(for {r.n_people} students; {r.slope:.4f} lower per e-fold of students)   "
        f"margin {r.margin:.3f}   seed {r.seed}",
        f"images        {r.n_images} ({r.n_no_face} without a face), {r.n_people} people, "
        f"{r.n_train} train / {r.n_test} test over {r.rotations} rotation(s) of the 80/20 split",
    ]
    if per_person:
        lines += ["", f"{'person':<28}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}"]
        for name, m in r.per_person.items():
            lines.append(
                f"{name:<28}{m['precision']:>10.2f}{m['recall']:>10.2f}{m['f1-score']:>10.2f}"
                f"{int(m['support']):>9}"
            )
    lines += [
        "",
        f"closed-set accuracy  {r.closed_set_accuracy:.2%}   (macro F1 {r.macro_f1:.3f})",
        f"open set, all {r.n_people} enrolled (strangers left out in turn):",
        f"  unknown accepted (FAR)   {r.far:.2%} of {r.n_unknown_probes} unknown probes",
        f"  genuine rejected (FRR)   {r.frr:.2%} of {r.n_genuine_probes} genuine probes",
        f"  genuine misidentified    {r.misidentification_rate:.2%}",
    ]
    s = r.sweep
    if s and s.get("threshold_at_far_1pct") is not None:
        lines.append(
            f"  (this set alone would give: EER {s['eer']:.2%} at {s['eer_threshold']:.3f}; "
            f"FAR<=1% up to threshold {s['threshold_at_far_1pct']:.3f}, "
            f"where FRR is {s['frr_at_far_1pct']:.2%})"
        )
    if r.by_gallery_size:
        lines += [
            "",
            f"{'gallery size':>13}{'threshold':>10}{'closed set':>12}{'FAR':>8}{'FRR':>8}"
            f"{'misid.':>8}{'unknown probes':>16}",
        ]
        for size, f in r.by_gallery_size.items():
            lines.append(
                f"{size:>13}{f['threshold']:>10.3f}{f['closed_set_accuracy']:>12.2%}"
                f"{f['far']:>8.2%}{f['frr']:>8.2%}{f['misidentification_rate']:>8.2%}"
                f"{f['n_unknown_probes']:>16}"
            )
    if r.groups:
        lines += [
            "",
            f"{'group':<20}{'people':>7}{'images':>8}{'closed set':>12}{'FAR':>8}{'FRR':>8}",
        ]
        for name, g in r.groups.items():
            lines.append(
                f"{name:<20}{g['n_people']:>7}{g['n_images']:>8}"
                f"{g['closed_set_accuracy']:>12.2%}{g['far']:>8.2%}{g['frr']:>8.2%}"
            )
    for e in r.closed_set_errors[:50]:
        lines.append(f"  misclassified: {e['photo']} ({e['truth']} -> {e['predicted']})")
    if len(r.closed_set_errors) > 50:
        lines.append(f"  ... and {len(r.closed_set_errors) - 50} more (--json lists them all)")
    return "\n".join(lines)
