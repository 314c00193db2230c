"""Renders icon.png (512x512) from the same shapes as icon.svg. Needs numpy; run: python3 generate.py

Kept so the icon can be regenerated without an image editor; PNG written with zlib + struct only.
"""
import struct
import zlib
from pathlib import Path

import numpy as np

SIZE = 512
SS = 4  # supersampling per axis, for smooth edges


def hex_rgb(h):
    return np.array([int(h[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)


def main():
    n = SIZE * SS
    coords = (np.arange(n) + 0.5) / SS
    x, y = np.meshgrid(coords, coords)
    rgb = np.zeros((n, n, 3))
    alpha = np.zeros((n, n))

    def paint(mask, color, opacity=1.0):
        nonlocal rgb, alpha
        a = mask * opacity
        rgb = rgb * (1 - a[..., None]) + color * a[..., None]
        alpha = alpha + a * (1 - alpha)

    # Rounded square with a diagonal gradient.
    r, x0, y0, x1, y1 = 96, 16, 16, 496, 496
    cx = np.clip(x, x0 + r, x1 - r)
    cy = np.clip(y, y0 + r, y1 - r)
    square = ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) & (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    t = np.clip(((x - x0) + (y - y0)) / ((x1 - x0) + (y1 - y0)), 0, 1)[..., None]
    gradient = hex_rgb('#4c3fd1') * (1 - t) + hex_rgb('#1b1f5e') * t
    rgb = np.where(square[..., None], gradient, rgb)
    alpha = np.where(square, 1.0, alpha)

    def rhombus(top):
        # Points: (256, top), (416, top + 62), (256, top + 124), (96, top + 62)
        return np.abs(x - 256) / 160 + np.abs(y - (top + 62)) / 62 <= 1

    paint(rhombus(300), hex_rgb('#2fd3c6'), 0.55)
    paint(rhombus(214), hex_rgb('#7ee8de'), 0.8)
    paint(rhombus(128), hex_rgb('#ffffff'))
    paint((x - 392) ** 2 + (y - 112) ** 2 <= 28 * 28, hex_rgb('#ffd166'))

    # Downsample: average premultiplied colour, then un-premultiply.
    pre = (rgb * alpha[..., None]).reshape(SIZE, SS, SIZE, SS, 3).mean(axis=(1, 3))
    a = alpha.reshape(SIZE, SS, SIZE, SS).mean(axis=(1, 3))
    color = np.where(a[..., None] > 0, pre / np.maximum(a[..., None], 1e-9), 0)
    pixels = np.dstack([color, a[..., None] * 255]).round().clip(0, 255).astype(np.uint8)

    raw = b''.join(b'\x00' + row.tobytes() for row in pixels)

    def chunk(kind, data):
        body = kind + data
        return struct.pack('>I', len(data)) + body + struct.pack('>I', zlib.crc32(body) & 0xFFFFFFFF)

    png = b'\x89PNG\r\n\x1a\n'
    png += chunk(b'IHDR', struct.pack('>IIBBBBB', SIZE, SIZE, 8, 6, 0, 0, 0))
    png += chunk(b'IDAT', zlib.compress(raw, 9))
    png += chunk(b'IEND', b'')
    out = Path(__file__).with_name('icon.png')
    out.write_bytes(png)
    print(f'wrote {out} ({len(png)} bytes)')


if __name__ == '__main__':
    main()
