"""Writes odvg/ the way X-AnyLabeling's LabelConverter.custom_to_odvg does (anylabeling/views/labeling/
label_converter.py): label_map.json with json.dump, and od.json with jsonlines' writer (one record per line,
under a .json name). Run in a virtual environment holding jsonlines and Pillow."""

import json
import os.path as osp
import sys
from importlib.metadata import version
from pathlib import Path

import jsonlines
from PIL import Image

save_path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "odvg")
classes = ["person", "dog", "kite"]  # the classes file: kite is declared but drawn on no image
images = {"walk.jpg": (40, 30, [("person", 2, 3, 15, 28), ("dog", 20.5, 14, 36, 29)]), "park.jpg": (24, 24, [])}

label_map = {}
for i, c in enumerate(classes):
    label_map[i] = c
with open(osp.join(save_path, "label_map.json"), "w") as f:
    json.dump(label_map, f)
od_data = []
for image_name, (width, height, shapes) in images.items():
    Image.new("RGB", (width, height), (120, 160, 90)).save(save_path / image_name, quality=80)
    instances = [
        {"bbox": [x1, y1, x2, y2], "label": classes.index(name), "category": name}
        for name, x1, y1, x2, y2 in shapes
    ]
    od_data.append({"filename": image_name, "height": height, "width": width, "detection": {"instances": instances}})
with jsonlines.open(osp.join(save_path, "od.json"), mode="w") as writer:
    writer.write_all(od_data)
print(f"written with jsonlines {version('jsonlines')}")
