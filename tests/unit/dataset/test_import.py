"""Image import: formats, EXIF orientation, bad files with reasons, duplicates, cancel."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from studio.dataset import imaging
from studio.dataset.importer import import_images
from studio.jobs import CancelToken


def _png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG whose header claims ``width`` x ``height`` (for decompression-bomb tests; no pixel data)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "images"
    (folder / "sub").mkdir(parents=True)
    Image.new("RGB", (40, 30), "red").save(folder / "a.jpg")
    Image.new("RGB", (41, 31), "blue").save(folder / "b.png")
    Image.new("RGB", (42, 32), "green").save(folder / "sub" / "c.webp")
    Image.new("RGB", (43, 33)).save(folder / "sub" / "d.bmp")
    Image.new("RGB", (44, 34)).save(folder / "sub" / "e.tiff")
    frames = [Image.new("P", (45, 35), i) for i in range(3)]
    frames[0].save(folder / "sub" / "f.gif", save_all=True, append_images=frames[1:])
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_folder_import_is_recursive_and_measures_every_format(project, image_folder):
    report = import_images(project, [image_folder])
    assert len(report.added) == 6 and report.skipped == []
    sizes = {Path(i.path).name: (i.width, i.height) for i in project.images()}
    assert sizes == {"a.jpg": (40, 30), "b.png": (41, 31), "c.webp": (42, 32), "d.bmp": (43, 33),
                     "e.tiff": (44, 34), "f.gif": (45, 35)}


def test_exif_rotated_image_is_stored_with_upright_size(project, tmp_path):
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (60, 20)).save(path, exif=exif)
    import_images(project, [path])
    image = project.images()[0]
    assert (image.width, image.height, image.orientation) == (20, 60, 6)


def test_bad_files_are_skipped_with_reasons(project, tmp_path, monkeypatch):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "text.png").write_text("hello, not a picture")
    good = folder / "good.jpg"
    Image.new("RGB", (64, 64), "white").save(good, quality=95)
    data = good.read_bytes()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 2])
    png = folder / "cut.png"
    Image.new("RGB", (64, 64)).save(png)
    png.write_bytes(png.read_bytes()[:-20])
    _png_header_only(folder / "bomb.png", 30000, 30000)
    (folder / "secret.png").write_bytes(png.read_bytes())

    real_open = imaging.PILImage.open

    def guarded_open(path, *args, **kwargs):
        if Path(path).name == "secret.png":  # root ignores file modes, so simulate the refusal
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(imaging.PILImage, "open", guarded_open)
    report = import_images(project, [folder])
    reasons = {Path(path).name: reason for path, reason in report.skipped}
    assert [Path(i.path).name for i in project.images()] == ["good.jpg"]
    assert reasons["empty.jpg"] == "empty file (0 bytes)"
    assert "not an image" in reasons["text.png"]
    assert "truncated" in reasons["truncated.jpg"]
    assert "truncated" in reasons["cut.png"] or "unreadable" in reasons["cut.png"]
    assert reasons["bomb.png"].startswith("too many pixels (900,000,000 pixels): Pillow refuses to decode images")
    assert reasons["secret.png"] == "permission denied"


def test_missing_paths_are_reported(project, tmp_path):
    report = import_images(project, [tmp_path / "nowhere"])
    assert report.skipped == [(str(tmp_path / "nowhere"), "no such file or folder")]


def test_duplicates_are_not_imported_twice(project, image_folder):
    import_images(project, [image_folder])
    report = import_images(project, [image_folder, image_folder / "a.jpg"])
    assert report.added == [] and report.duplicates == 7
    assert project.image_count() == 6


def test_list_file_names_images_relative_to_itself(project, image_folder):
    listing = image_folder / "list.txt"
    listing.write_text("# chosen\na.jpg\nsub/c.webp\n")
    report = import_images(project, [listing])
    assert len(report.added) == 2


def test_copy_puts_whole_files_into_the_assets_folder(project, image_folder):
    report = import_images(project, [image_folder / "a.jpg", image_folder / "sub"], copy=True)
    paths = [Path(i.path) for i in project.images()]
    assert len(report.added) == len(paths) == 5  # a.jpg and the four in sub/
    assert all(p.parent == project.assets_dir for p in paths)
    originals = [image_folder / "a.jpg", *sorted((image_folder / "sub").iterdir())]
    assert sorted(p.read_bytes() for p in paths) == sorted(o.read_bytes() for o in originals)  # whole files
    assert not list(project.assets_dir.glob("*.partial"))


def test_cancel_stops_between_files_and_keeps_only_whole_images(project, image_folder):
    token = CancelToken()
    seen = []

    def progress(done, total, message):
        seen.append(done)
        token.cancel()

    report = import_images(project, [image_folder], progress=progress, cancel=token)
    assert len(report.added) < 6
    assert project.image_count() == len(report.added)


def _jpeg_with_thumbnail(path: Path) -> bytes:
    """A JPEG whose EXIF block holds a thumbnail with its own end marker (as camera files do)."""
    Image.new("RGB", (64, 48), "white").save(path, quality=90)
    data = path.read_bytes()
    thumbnail = b"\xff\xd8" + b"\x00" * 40 + b"\xff\xd9"
    app1 = b"Exif\x00\x00" + thumbnail
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + data[2:]


def test_jpeg_and_png_with_bytes_after_the_end_marker_are_accepted(project, tmp_path):
    """Camera and motion-photo trailers (an MP4 after the JPEG) follow the end marker; Pillow reads such files."""
    folder = tmp_path / "trailers"
    folder.mkdir()
    trailer = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 400
    (folder / "motion.jpg").write_bytes(_jpeg_with_thumbnail(folder / "motion.jpg") + trailer)
    Image.new("RGB", (30, 20), "blue").save(folder / "extra.png")
    (folder / "extra.png").write_bytes((folder / "extra.png").read_bytes() + b"vendor data" * 1000)
    report = import_images(project, [folder])
    assert report.skipped == []
    assert {Path(i.path).name: (i.width, i.height) for i in project.images()} == {
        "motion.jpg": (64, 48), "extra.png": (30, 20)}


def test_a_cut_jpeg_is_refused_although_its_thumbnail_ends_properly(project, tmp_path):
    data = _jpeg_with_thumbnail(tmp_path / "whole.jpg")
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) - 200])
    report = import_images(project, [tmp_path / "cut.jpg"])
    assert [reason for _path, reason in report.skipped] == ["truncated file (the image data ends early)"]


def test_images_up_to_pillows_error_level_are_accepted_unless_memory_is_short(project, tmp_path, monkeypatch):
    _png_header_only(tmp_path / "100mp.png", 10_000, 10_000)  # over Pillow's warning level (89.5 MP)
    import_images(project, [tmp_path / "100mp.png"])
    assert [(i.width, i.height) for i in project.images()] == [(10_000, 10_000)]
    _png_header_only(tmp_path / "small-ram.png", 12_000, 10_000)
    monkeypatch.setattr(imaging, "available_memory", lambda: 300 * 2**20)
    report = import_images(project, [tmp_path / "small-ram.png"])
    assert report.skipped == [(str(tmp_path / "small-ram.png"), "too large to decode on this computer: 12,000 x "
                               "10,000 pixels need 0.4 GiB of memory, 0.3 GiB is available")]


def test_symlink_loops_and_non_utf8_names_are_skipped_and_the_import_goes_on(project, tmp_path):
    folder = tmp_path / "links"
    folder.mkdir()
    Image.new("RGB", (8, 8)).save(folder / "good.png")
    (folder / "a.png").symlink_to(folder / "b.png")
    (folder / "b.png").symlink_to(folder / "a.png")
    (folder / "self.jpg").symlink_to(folder / "self.jpg")
    (folder / "up").symlink_to(tmp_path)  # a folder link back up: not followed
    bad_name = os.fsdecode(os.fsencode(str(folder)) + b"/caf\xe9.png")  # Latin-1 bytes in the name
    Path(bad_name).write_bytes((folder / "good.png").read_bytes())
    listing = tmp_path / "list.txt"
    listing.write_bytes(b"links/good.png\nlinks/\xff.png\n")
    report = import_images(project, [folder, listing])
    assert [Path(i.path).name for i in project.images()] == ["good.png"]
    reasons = {Path(path).name: reason for path, reason in report.skipped}
    loop = "symlink loop (following the link never reaches a file)"
    assert reasons == {"a.png": loop, "b.png": loop, "self.jpg": loop, Path(bad_name).name:
                       "the file name is not valid UTF-8 text (rename the file)",
                       "list.txt": "line 2 byte 7: expected UTF-8 text, found the byte 0xff"}
