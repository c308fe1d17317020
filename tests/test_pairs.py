import pytest

from facegate.errors import DatasetError
from facegate.evaluation.dataset import scan_identities
from facegate.evaluation.pairs import read_pairs, write_all_pairs


@pytest.fixture
def images(tmp_path):
    for person in ("ann", "bob"):
        (tmp_path / person).mkdir()
        for i in (1, 2):
            (tmp_path / person / f"{i}.jpg").write_bytes(b"x")
    return tmp_path


def write(tmp_path, rows):
    path = tmp_path / "pairs.csv"
    path.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    return path


def test_every_label_spelling(tmp_path, images):
    rows = [
        "ann/1.jpg,ann/2.jpg,1",
        "ann/1.jpg,bob/1.jpg,0",
        "bob/1.jpg,bob/2.jpg,YES",
        "bob/1.jpg,ann/2.jpg,no",
        "ann/1.jpg,ann/2.jpg,True",
        "ann/2.jpg,bob/2.jpg,FALSE",
        "bob/2.jpg,bob/1.jpg,Same",
        "ann/1.jpg,bob/2.jpg,different,extra column",
        "",
    ]
    pairs = read_pairs(write(tmp_path, rows), images)
    assert [p.same for p in pairs] == [True, False, True, False, True, False, True, False]
    assert pairs[0].first == images / "ann" / "1.jpg"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["ann/1.jpg,ann/2.jpg,maybe"], "line 2: label 'maybe'"),
        (["ann/1.jpg,ann/2.jpg"], "line 2: expected image,image,label"),
        (["ann/1.jpg,ann/9.jpg,1", "ann/1.jpg,bob/1.jpg,0"], r"1 image\(s\) not found"),
        (["ann/1.jpg,ann/2.jpg,1"], "both same-person and different-person"),
        ([], "no pairs"),
    ],
)
def test_bad_pairs_files(tmp_path, images, rows, message):
    path = tmp_path / "pairs.csv"
    path.write_text("a,b,label\n" + "\n".join(rows))
    with pytest.raises(DatasetError, match=message):
        read_pairs(path, images)


def test_missing_pairs_file(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        read_pairs(tmp_path / "none.csv", tmp_path)


def test_all_pairs_of_a_folder_set(tmp_path, images):
    out = tmp_path / "all.csv"
    assert write_all_pairs(scan_identities(images), out) == 6
    pairs = read_pairs(out, images)
    assert sum(p.same for p in pairs) == 2


def test_data_set_needs_people_with_two_photos(tmp_path):
    (tmp_path / "solo").mkdir()
    (tmp_path / "solo" / "1.jpg").write_bytes(b"x")
    with pytest.raises(DatasetError, match="at least two"):
        scan_identities(tmp_path)
    (tmp_path / "duo").mkdir()
    for i in (1, 2):
        (tmp_path / "duo" / f"{i}.jpg").write_bytes(b"x")
    with pytest.raises(DatasetError, match="fewer than 2 photos: solo"):
        scan_identities(tmp_path)


def test_pairs_figures_per_group(tmp_path):
    """Group columns give per-group AUC and FAR; a group whose strangers are close shows it."""
    import numpy as np

    from facegate.evaluation.groups import scan_groups
    from facegate.evaluation.pairs import evaluate_pairs, write_group_pairs

    rng = np.random.default_rng(0)
    embeddings = {}
    for group, spread in (("far_apart", 0.05), ("look_alike", 0.05)):
        base = rng.normal(size=32)
        for person in ("p1", "p2", "p3"):
            folder = tmp_path / group / person
            folder.mkdir(parents=True)
            # look_alike: everyone is a small step from one face; far_apart: random people.
            centre = (
                base + 0.15 * rng.normal(size=32) if group == "look_alike" else rng.normal(size=32)
            )
            for i in range(3):
                path = folder / f"{i}.jpg"
                path.write_bytes(b"x")
                v = centre / np.linalg.norm(centre) + spread * rng.normal(size=32) / 4
                embeddings[path] = v / np.linalg.norm(v)
    out = tmp_path / "pairs.csv"
    n = write_group_pairs(tmp_path, scan_groups(tmp_path), out)
    assert n == 2 * 36
    pairs = read_pairs(out, tmp_path)
    assert {p.group for p in pairs} == {"far_apart", "look_alike"}
    report, _, _ = evaluate_pairs(pairs, embeddings, "synthetic", 0.3)
    far, close = report.groups["far_apart"], report.groups["look_alike"]
    assert far["n_pairs"] == close["n_pairs"] == 36 and far["n_same"] == 9
    assert far["far_at_threshold"] == 0.0 and close["far_at_threshold"] > 0.5
    assert report.far_at_threshold == pytest.approx(
        (far["far_at_threshold"] + close["far_at_threshold"]) / 2
    )


def test_group_columns_must_be_complete(tmp_path, images):
    path = tmp_path / "pairs.csv"
    path.write_text("a,b,label,group1\nann/1.jpg,ann/2.jpg,1,x\nann/1.jpg,bob/1.jpg,0,x\n")
    with pytest.raises(DatasetError, match="group2"):
        read_pairs(path, images)
    path.write_text("a,b,label,group\nann/1.jpg,ann/2.jpg,1,x\nann/1.jpg,bob/1.jpg,0,\n")
    with pytest.raises(DatasetError, match="line 3: the 'group' column is empty"):
        read_pairs(path, images)
    path.write_text(
        "a,b,label,group1,group2\nann/1.jpg,ann/2.jpg,1,x,x\nann/1.jpg,bob/1.jpg,0,x,y\n"
    )
    assert [p.group for p in read_pairs(path, images)] == ["x", None]
