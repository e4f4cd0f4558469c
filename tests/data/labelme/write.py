"""Writes this folder's labelme files with labelme's own label-file writer (run by a Python holding labelme 7,
which needs Python >= 3.12): ``python write.py [FOLDER]``; prints what it wrote as JSON.

tutorial_style.json is shaped like labelme's examples/tutorial/apc2016_obj3.json: the image is embedded
(imageData) and imagePath names the JSON file itself, not an image. missing_image.json names an image that is not
there and embeds none. beside.json names beside.jpg, written next to it.
"""

import io
import json
import sys
from pathlib import Path

from labelme import __version__
from labelme._label_file import Annotation, write_label_file
from labelme._shape import ShapeDict
from PIL import Image

here = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent)


def jpeg(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="JPEG", quality=80)
    return out.getvalue()


def polygon(label: str, points: list[list[float]]) -> ShapeDict:
    return ShapeDict(
        label=label,
        points=points,
        shape_type="polygon",
        flags={},
        description="",
        group_id=None,
        mask=None,
        locked=False,
        other_data={},
    )


def save(name: str, shapes: list[ShapeDict], image_path: str, size: tuple[int, int], data: bytes = b"") -> None:
    annotation = Annotation(image_path=image_path, image_data=data, shapes=shapes, flags={}, other_data={})
    write_label_file(
        filename=str(here / name),
        annotation=annotation,
        image_width=size[0],
        image_height=size[1],
        save_image_data=bool(data),
    )


save(
    "tutorial_style.json",
    [
        polygon("shelf", [[1.5, 2.0], [30.0, 2.0], [30.0, 20.5], [1.5, 20.5]]),
        polygon("mead_index_cards", [[4.0, 5.0], [12.0, 5.5], [11.0, 14.0]]),
    ],
    "tutorial_style.json",
    (32, 24),
    jpeg(32, 24, (90, 140, 200)),
)
save("missing_image.json", [polygon("ghost", [[1, 1], [5, 1], [5, 5]])], "missing_image.jpg", (10, 10))
(here / "beside.jpg").write_bytes(jpeg(20, 16, (200, 80, 40)))
save("beside.json", [polygon("shelf", [[2, 3], [18, 3], [18, 14], [2, 14]])], "beside.jpg", (20, 16))
# what a reader should find: the image of missing_image.json is not there
print(json.dumps({"tool": f"labelme {__version__}", "images": 2, "boxes": 3, "missing": 1}))
