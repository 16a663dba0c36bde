"""kgan.data.attribute_folder: folder:PATH images with a CSV of attributes (StarGAN), on small generated folders."""

import dataclasses
import os

import numpy as np
import pytest
from PIL import Image

from kgan import configs
from kgan.data import attribute_folder
from kgan.data import attributes as A

NAMES = ("Smiling", "Male", "Young")


def expected_attributes(i):
    """The attributes of image i: every combination over 8 images, so no column is constant."""
    return [(i >> k) & 1 for k in range(len(NAMES))]


def write_image(path, i, size=16, fmt="PNG"):
    """A flat image of value 20 * i + 10, so a decoded image tells which file it came from."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.full((size, size, 3), 20 * i + 10, np.uint8)).save(path, fmt)


def index_of(image) -> int:
    """The i of `write_image` from a decoded image (uint8, or float in [-1, 1])."""
    value = float(np.mean(image))
    value = (value + 1) * 127.5 if value <= 1.0 else value
    return int(round((value - 10) / 20))


def write_csv(path, rows, header=("image_id", *NAMES)):
    with open(path, "w", newline="") as f:
        f.write("\n".join(",".join(map(str, row)) for row in [header, *rows]) + "\n")


def celeb_a_rows(names, convention=("1", "-1")):
    """A row per file name with its `expected_attributes`, as ``convention`` = (spelling of 1, spelling of 0)."""
    return [[name, *(convention[0] if v else convention[1] for v in expected_attributes(i))] for i, name in enumerate(names)]


@pytest.fixture
def faces(tmp_path):
    """8 PNG/JPEG images, 0.png ... 7.jpg, in tmp_path/faces."""
    root = tmp_path / "faces"
    for i in range(8):
        write_image(str(root / f"{i}.png") if i % 2 == 0 else str(root / f"{i}.jpg"), i, fmt="PNG" if i % 2 == 0 else "JPEG")
    return root


def file_names():
    return [f"{i}.png" if i % 2 == 0 else f"{i}.jpg" for i in range(8)]


def examples_by_index(name, split="train", **options):
    """index -> attribute vector of every example `load_attribute_images` yields for the split (one pass)."""
    batches = A.load_attribute_images(name, split, 1, shuffle=False, **options)
    found = {}
    for images, values in batches:
        found[index_of(images[0].numpy())] = values[0].numpy().tolist()
    return found


def test_celeb_a_csv_inside_the_folder_gives_each_image_its_own_row(faces):
    write_csv(faces / "attributes.csv", celeb_a_rows(file_names()))  # CelebA's 1/-1.
    described = A.describe_attribute_data(f"folder:{faces}", attributes=None)
    assert described.attribute_names == NAMES and described.attributes_file == str(faces / "attributes.csv")
    assert described.info.splits == {"train": 8} and described.info.image_shape == (16, 16, 3)
    assert described.dropped_rows == () and described.warnings == () and described.info.skipped == ()
    # Rows reach their own images whatever order the pipeline reads them in.
    assert examples_by_index(f"folder:{faces}") == {i: expected_attributes(i) for i in range(8)}
    images, values = next(iter(A.load_attribute_images(f"folder:{faces}", "train", 4, seed=0)))
    assert images.shape == (4, 16, 16, 3) and values.shape == (4, 3)
    assert float(np.min(images)) >= -1 and float(np.max(images)) <= 1


def test_zero_one_and_true_false_in_a_csv_next_to_the_folder(faces):
    rows = celeb_a_rows(file_names(), ("1", "0"))
    rows[3][1:] = [" TRUE", "false ", "True"]  # Any case, spaces ignored.
    write_csv(str(faces) + ".csv", rows, header=("filename", *NAMES))
    described = A.describe_attribute_data(f"folder:{faces}")
    assert described.attributes_file == str(faces) + ".csv"
    expected = {i: expected_attributes(i) for i in range(8)}
    expected[3] = [1, 0, 1]
    assert examples_by_index(f"folder:{faces}") == expected
    # A CSV inside the folder wins over one next to it; an explicit file wins over both.
    write_csv(faces / "attributes.csv", celeb_a_rows(file_names()), header=("image_id", "A", "B", "C"))
    assert A.describe_attribute_data(f"folder:{faces}").attribute_names == ("A", "B", "C")
    explicit = faces.parent / "elsewhere.csv"
    write_csv(explicit, celeb_a_rows(file_names()), header=("image_id", "X", "Y", "Z"))
    assert A.describe_attribute_data(f"folder:{faces}", attributes_file=str(explicit)).attribute_names == ("X", "Y", "Z")


def test_a_missing_csv_names_both_places_in_the_config_check_and_the_loader(faces):
    with pytest.raises(FileNotFoundError) as error:
        A.describe_attribute_data(f"folder:{faces}")
    assert str(faces / "attributes.csv") in str(error.value) and f"{faces}.csv" in str(error.value)
    assert "--attributes_file" in str(error.value)
    config = dataclasses.replace(configs.STAR_GAN_PRESETS["smoke"], dataset=f"folder:{faces}", attributes=())
    problems = "\n".join(config.problems())
    assert str(faces / "attributes.csv") in problems and f"{faces}.csv" in problems
    config = dataclasses.replace(config, attributes_file=str(faces / "nope.csv"))
    assert "--attributes_file=" in "\n".join(config.problems())
    write_csv(faces / "attributes.csv", celeb_a_rows(file_names()))
    assert dataclasses.replace(config, attributes_file=None).problems() == []
    # The folder-only options are refused for the other sources.
    tinted = dataclasses.replace(configs.STAR_GAN_PRESETS["smoke"], attributes_file=str(faces / "attributes.csv"), channels=1)
    assert any("--attributes_file, --channels apply to folder:PATH data only" in p for p in tinted.problems())


def test_columns_are_selected_and_unknown_names_list_the_columns(faces):
    write_csv(faces / "attributes.csv", celeb_a_rows(file_names()))
    name = f"folder:{faces}"
    assert A.describe_attribute_data(name, attributes=("Young", "Smiling")).attribute_names == ("Young", "Smiling")
    found = examples_by_index(name, attributes=("Young", "Smiling"))
    assert found == {i: [expected_attributes(i)[2], expected_attributes(i)[0]] for i in range(8)}
    with pytest.raises(ValueError, match=r"no column 'Bald'; its attribute columns: Smiling, Male, Young"):
        A.describe_attribute_data(name, attributes=("Smiling", "Bald"))
    # The config's default (CelebA's attributes), which this CSV lacks, means every column ...
    assert A.describe_attribute_data(name, attributes=A.CELEB_A_DEFAULT_ATTRIBUTES).attribute_names == NAMES
    # ... but a CSV with CelebA's columns gets the paper's five.
    columns = ("image_id", "Bald", *A.CELEB_A_DEFAULT_ATTRIBUTES)
    rows = [[n, *[(i + k) % 2 * 2 - 1 for k in range(6)]] for i, n in enumerate(file_names())]
    write_csv(faces / "attributes.csv", rows, header=columns)
    assert A.describe_attribute_data(name, attributes=A.CELEB_A_DEFAULT_ATTRIBUTES).attribute_names == A.CELEB_A_DEFAULT_ATTRIBUTES


def test_a_bad_value_is_named_by_line_and_column_unless_its_row_is_unused(faces):
    rows = celeb_a_rows(file_names())
    rows[4][2] = "yes"  # 4.png, Male: line 6 (the header is line 1).
    write_csv(faces / "attributes.csv", rows)
    with pytest.raises(ValueError, match=r"1 value\(s\) are not 1, 0, -1, true or false: line 6, column Male: 'yes'"):
        A.describe_attribute_data(f"folder:{faces}")
    # Not chosen: no matter.
    assert A.describe_attribute_data(f"folder:{faces}", attributes=("Smiling",)).info.splits == {"train": 8}
    # In a row naming no image: dropped with its row, not refused.
    rows[4][0] = "gone.png"
    write_csv(faces / "attributes.csv", rows)
    described = A.describe_attribute_data(f"folder:{faces}")
    assert described.dropped_rows == ((6, "gone.png", "no such image in the folder"),)


def test_duplicate_rows_are_refused_with_their_lines(faces):
    rows = celeb_a_rows(file_names())
    write_csv(faces / "attributes.csv", [*rows, rows[2], ["./0.png", *rows[0][1:]]])
    with pytest.raises(ValueError, match=r"names 2 file\(s\) in more than one row: 0\.png \(lines 2, 11\); 2\.png \(lines 4, 10\)"):
        A.describe_attribute_data(f"folder:{faces}")


def test_rows_without_an_image_are_dropped_and_images_without_a_row_skipped_or_stopping(faces):
    (faces / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    names = file_names()
    rows = celeb_a_rows(names[:6]) + [["broken.png", 1, 1, 1], ["missing.jpg", -1, -1, -1]]  # 6.png, 7.jpg have none.
    write_csv(faces / "attributes.csv", rows)
    described = A.describe_attribute_data(f"folder:{faces}")
    assert described.info.splits == {"train": 6}
    assert described.dropped_rows == (
        (8, "broken.png", "skipped as unusable: not an image PIL can identify"),
        (9, "missing.jpg", "no such image in the folder"),
    )
    skipped = dict(described.info.skipped)
    assert set(skipped) == {str(faces / n) for n in ("broken.png", "6.png", "7.jpg")}
    assert skipped[str(faces / "6.png")] == f"no row in {faces / 'attributes.csv'}"
    assert set(examples_by_index(f"folder:{faces}")) == set(range(6))
    line = attribute_folder.describe_dropped_rows(described.dropped_rows, described.attributes_file, described.info.name)
    assert line.startswith("2 row(s) of") and "line 9: missing.jpg (no such image in the folder)" in line
    # --on_bad_image=stop: the broken file stops it first; without it, the images without a row do.
    with pytest.raises(ValueError, match=r"broken\.png"):
        A.describe_attribute_data(f"folder:{faces}", on_bad_image="stop")
    (faces / "broken.png").unlink()
    with pytest.raises(ValueError, match=r"2 image\(s\) of folder:.* have no row in .*attributes\.csv: 6\.png; 7\.jpg\. "
                                         r"Add their rows, remove the images, or pass --on_bad_image=skip"):
        A.describe_attribute_data(f"folder:{faces}", on_bad_image="stop")


def test_a_csv_naming_no_image_shows_both_sides(faces):
    write_csv(faces / "attributes.csv", celeb_a_rows([f"img_align_celeba/{n}" for n in file_names()]))
    with pytest.raises(ValueError, match=r"None of the 8 rows .* names an image .*The CSV names e\.g\. img_align_celeba/0\.png.*"
                                         r"the folder holds e\.g\. 0\.png"):
        A.describe_attribute_data(f"folder:{faces}")


def test_a_constant_attribute_is_warned_about(faces):
    rows = celeb_a_rows(file_names())
    for row in rows:
        row[3] = "1"  # Young everywhere.
    write_csv(faces / "attributes.csv", rows)
    described = A.describe_attribute_data(f"folder:{faces}")
    assert len(described.warnings) == 1
    assert described.warnings[0].startswith("attribute Young is 1 for every one of the 8 training images: the model can never learn")


def test_train_and_test_subfolders_are_splits_named_with_or_without_their_folder(tmp_path):
    root = tmp_path / "faces"
    for i in range(8):
        write_image(str(root / ("train" if i < 6 else "test") / f"{i}.png"), i)
    names = [f"train/{i}.png" if i < 3 else f"{i}.png" for i in range(8)]  # Both spellings.
    write_csv(tmp_path / "faces.csv", celeb_a_rows(names))
    described = A.describe_attribute_data(f"folder:{root}")
    assert described.info.splits == {"train": 6, "test": 2}
    assert examples_by_index(f"folder:{root}", "test") == {6: expected_attributes(6), 7: expected_attributes(7)}
    # A name two splits hold must say which one it means.
    write_image(str(root / "test" / "5.png"), 5)
    with pytest.raises(ValueError, match=r"line 7: 5\.png \(train/5\.png or test/5\.png\).*train/NAME"):
        A.describe_attribute_data(f"folder:{root}")


def test_malformed_csvs_are_refused_with_the_line(faces):
    path = faces / "attributes.csv"
    path.write_text("image_id Smiling Male\n0.png 1 -1\n")  # Space-separated, as CelebA's .txt.
    with pytest.raises(ValueError, match=r"has no attribute column.*comma-separated"):
        A.describe_attribute_data(f"folder:{faces}")
    rows = celeb_a_rows(file_names())
    rows[1] = rows[1][:2]
    write_csv(path, rows)
    with pytest.raises(ValueError, match=r"the header has 4 fields but line 3 has 2 field\(s\)"):
        A.describe_attribute_data(f"folder:{faces}")
    write_csv(path, celeb_a_rows(file_names()), header=("image_id", "Male", "Smiling", "Male"))
    with pytest.raises(ValueError, match=r"the column\(s\) Male twice"):
        A.describe_attribute_data(f"folder:{faces}")
