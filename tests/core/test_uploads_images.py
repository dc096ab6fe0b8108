"""Users' pictures: one image (read_image) and a zip in ImageFolder layout (image_folder_zip), including
hostile files. Each refusal is checked by the message the user sees; nothing lands outside the folder given."""
from __future__ import annotations

import io
import stat
import zlib
import zipfile
from pathlib import Path

import pytest
import torch
from PIL import Image

from core import tasks, training, uploads


def png(color=(200, 30, 30), size=(20, 12)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def make_zip(files: dict[str, bytes], symlink: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, "/etc/passwd")
    return buf.getvalue()


def flat(classes=("cat", "dog"), n=6, top="") -> dict[str, bytes]:
    return {f"{top}{c}/{i}.png": png((40 * k, 100, 200 - 40 * k)) for k, c in enumerate(classes) for i in range(n)}


def test_a_flat_zip_is_split_resized_and_written_only_under_dest(tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    result = uploads.image_folder_zip(make_zip(flat(top="pets/")), dest)
    assert result.classes == ("cat", "dog")
    assert result.train_counts == (4, 4) and result.test_counts == (2, 2)  # a quarter of 6, rounded, is held out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest"]
    pictures = list(dest.rglob("*.png"))
    assert len(pictures) == 12 and all(Image.open(p).size == (64, 64) for p in pictures)
    assert all(p.resolve().is_relative_to(dest.resolve()) for p in pictures)


def test_a_train_test_zip_keeps_its_split(tmp_path):
    files = {f"{part}/{c}/{i}.png": png() for part, n in (("train", 3), ("test", 2)) for c in ("a", "b", "c") for i in range(n)}
    result = uploads.image_folder_zip(make_zip(files), tmp_path)
    assert result.classes == ("a", "b", "c") and result.train_counts == (3, 3, 3) and result.test_counts == (2, 2, 2)


def test_the_course_cnn_trains_on_an_uploaded_zip(tmp_path):
    images = uploads.image_folder_zip(make_zip(flat(("x", "y", "z"))), tmp_path)
    prepared = tasks.prepare(tasks.Settings(task="image", epochs=1, batch_size=4, hidden=4), images=images)
    assert prepared.class_names == ["x", "y", "z"] and prepared.model.classifier.out_features == 3
    for p in tmp_path.rglob("*.png"):
        p.unlink()  # the pictures were read once: the folder may go while training runs
    records = list(training.train(**prepared.train_args(), epochs=1))
    assert records[-1].kind == "done" and all(torch.isfinite(torch.tensor(r.train_loss)) for r in records if r.kind == "step")


def bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a/big.png", b"\0" * (30 * 2**20))  # 30 MB of zeros packs into ~30 kB
        z.writestr("b/x.png", png())
    return buf.getvalue()


HOSTILE = {
    "empty": (b"", "empty"),
    "not a zip": (b"PK\x03\x04 this is junk" * 10, "not a zip file"),
    "csv named zip": (b"a,b\n1,2\n", "not a zip file"),
    "path traversal": (make_zip({**flat(), "../../evil.png": png()}), "'..' would point outside"),
    "nested traversal": (make_zip({**flat(), "cat/../../../evil.png": png()}), "'..' would point outside"),
    "absolute path": (make_zip({**flat(), "/etc/cron.d/x.png": png()}), "absolute paths"),
    "backslash": (make_zip({**flat(), "..\\..\\evil.png": png()}), "backslashes"),
    "symlink": (make_zip(flat(), symlink="cat/link.png"), "symbolic link"),
    "zip bomb": (bomb(), "zip bomb"),
    "text file inside": (make_zip({**flat(), "cat/notes.txt": b"hello"}), "not a PNG or JPEG picture"),
    "junk named png": (make_zip({**flat(), "cat/fake.png": b"\x89PNG not really"}), "not a PNG or JPEG image"),
    "one class": (make_zip(flat(("cat",))), "at least two folders"),
    "too many classes": (make_zip(flat(tuple(f"c{i}" for i in range(uploads.MAX_CLASSES + 1)), n=4)), "the limit is 20"),
    "files at the top": (make_zip({"1.png": png(), "2.png": png()}), "not in ImageFolder layout"),
    "too few pictures": (make_zip(flat(n=2)), "at least 4"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_zips_are_refused_with_a_clear_message_and_write_nothing_outside(name, tmp_path):
    raw, message = HOSTILE[name]
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(uploads.UploadError) as err:
        uploads.image_folder_zip(raw, dest)
    assert message in str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest"]
    assert not (tmp_path.parent / "evil.png").exists()


@pytest.mark.parametrize("side", [5_000, 50_000])  # over the app's limit; over PIL's own bomb limit too
def test_a_picture_that_declares_huge_dimensions_is_refused_before_decoding(side):
    buf = io.BytesIO()
    Image.new("L", (1, 1)).save(buf, format="PNG")
    raw = bytearray(buf.getvalue())
    raw[16:24] = (side).to_bytes(4, "big") + (side).to_bytes(4, "big")  # IHDR width and height
    raw[29:33] = zlib.crc32(bytes(raw[12:29])).to_bytes(4, "big")  # a valid header: only its claim is huge
    with pytest.raises(uploads.UploadError, match="declares"):
        uploads.read_image(bytes(raw))


@pytest.mark.parametrize("raw, message", [(b"", "empty"), (b"GIF89a" + b"\0" * 50, "not a PNG or JPEG"),
                                          (b"\x00\x01junk", "not a PNG or JPEG")])
def test_read_image_refuses_what_is_not_a_png_or_jpeg(raw, message):
    with pytest.raises(uploads.UploadError, match=message):
        uploads.read_image(raw)
