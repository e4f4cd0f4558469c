"""Writes this folder's labelme files with labelme's own LabelFile (run in a virtual environment holding labelme).

tutorial_style.json is shaped like labelme's examples/tutorial/apc2016_obj3.json: the image is embedded
(imageData) and imagePath names the JSON file itself, not an image. missing_image.json names an image that is not
there and embeds none. beside.json names beside.jpg, written next to it.
"""

import io
import sys
from pathlib import Path

from labelme import __version__
from labelme._label_file import LabelFile
from PIL import Image

here = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent)


def jpeg(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="JPEG", quality=80)
    return out.getvalue()


def polygon(label: str, points: list[list[float]]) -> dict:
    return {"label": label, "points": points, "group_id": None, "description": "", "shape_type": "polygon",
            "flags": {}, "mask": None}


LabelFile().save(
    str(here / "tutorial_style.json"),
    shapes=[
        polygon("shelf", [[1.5, 2.0], [30.0, 2.0], [30.0, 20.5], [1.5, 20.5]]),
        polygon("mead_index_cards", [[4.0, 5.0], [12.0, 5.5], [11.0, 14.0]]),
    ],
    image_path="tutorial_style.json",
    image_height=24,
    image_width=32,
    image_data=jpeg(32, 24, (90, 140, 200)),
)
LabelFile().save(
    str(here / "missing_image.json"),
    shapes=[polygon("ghost", [[1, 1], [5, 1], [5, 5]])],
    image_path="missing_image.jpg",
    image_height=10,
    image_width=10,
)
(here / "beside.jpg").write_bytes(jpeg(20, 16, (200, 80, 40)))
LabelFile().save(
    str(here / "beside.json"),
    shapes=[polygon("shelf", [[2, 3], [18, 3], [18, 14], [2, 14]])],
    image_path="beside.jpg",
    image_height=16,
    image_width=20,
)
print(f"written with labelme {__version__}")
