#!/usr/bin/env python3
"""Convert dlib imglab XML face boxes into WIDER FACE ground-truth text for `facestream eval detection`.

Usage: scripts/imglab_to_wider.py training.xml [testing.xml ...] > faces_gt.txt
Boxes marked ignore='1' become WIDER 'invalid' faces (neither misses nor false positives).
"""
import sys
import xml.etree.ElementTree as ET

for path in sys.argv[1:]:
    for image in ET.parse(path).getroot().iter("image"):
        boxes = image.findall("box")
        print(image.get("file"))
        print(len(boxes))
        if not boxes:
            print("0 0 0 0 0 0 0 0 0 0")
        for b in boxes:
            invalid = 1 if b.get("ignore") == "1" else 0
            print(f"{b.get('left')} {b.get('top')} {b.get('width')} {b.get('height')} 0 0 0 {invalid} 0 0")
