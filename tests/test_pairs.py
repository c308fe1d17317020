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
