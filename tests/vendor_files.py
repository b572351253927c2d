"""Small writers that build instrument files from their documented layouts, for tests.

They follow the layouts written down in the reader modules' docstrings
(Keyence VK4/VK6, Olympus LEXT/OLS, Zygo datx, Sensofar plux), and are kept
independent of the readers: nothing here imports surfscan.
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import numpy as np

# ----------------------------------------------------------------------------- Keyence VK4


def _vk4_conditions(dx_pm: int, dy_pm: int, z_pm: int, lens_mag10: int, zoom10: int, date: tuple) -> bytes:
    words = [0] * 76
    words[0] = 304
    words[1:7] = list(date)
    words[7] = 60  # minutes from UTC
    words[18] = zoom10
    words[24] = lens_mag10
    words[42], words[43], words[44] = dx_pm, dy_pm, z_pm
    words[56] = 950
    return struct.pack("<76I", *words)


def _vk4_image(data: np.ndarray) -> bytes:
    bits = data.dtype.itemsize * 8
    rows, cols = data.shape
    head = struct.pack("<7I", cols, rows, bits, 0, data.nbytes, int(data.min()), int(data.max()))
    return head + bytes(768) + data.astype(data.dtype.newbyteorder("<")).tobytes()


def _vk4_color(rgb: np.ndarray) -> bytes:
    rows, cols, _ = rgb.shape
    return struct.pack("<5I", cols, rows, 24, 0, rgb.nbytes) + rgb.astype(np.uint8).tobytes()


def _utf16(text: str) -> bytes:
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


def make_vk4(
    counts: np.ndarray,
    dx_pm: int = 138_000,
    dy_pm: int = 139_000,
    z_pm: int = 1000,
    light: np.ndarray | None = None,
    color: bool = True,
    lens_mag10: int = 500,
    zoom10: int = 10,
    date: tuple = (2024, 3, 5, 14, 7, 9),
    title: str = "E1 site 1",
    lens_name: str = "CF IC EPI Plan 50X",
    magic: bytes = b"VK4_",
) -> bytes:
    """A VK4 (or, with ``magic=b"VK3_"``, VK3) stream holding height counts (uint32 or uint16)."""
    table_len = 72 if magic == b"VK4_" else 68
    blocks: list[tuple[str, bytes]] = [("meas_conds", _vk4_conditions(dx_pm, dy_pm, z_pm, lens_mag10, zoom10, date))]
    if color:
        rgb = np.zeros(counts.shape + (3,), np.uint8)
        rgb[..., 1] = 200
        blocks.append(("color_peak", _vk4_color(rgb)))
    if light is not None:
        blocks.append(("light0", _vk4_image(light)))
    blocks.append(("height0", _vk4_image(counts)))
    blocks.append(("string_data", _utf16(title) + _utf16(lens_name)))
    names = ["meas_conds", "color_peak", "color_light", "light0", "light1", "light2", "height0", "height1",
             "height2", "cpt", "ct", "lt", "ht", "assemble", "line_measure", "line_thickness", "string_data"]
    offsets = dict.fromkeys(names, 0)
    body = b""
    pos = 12 + table_len
    for name, blob in blocks:
        offsets[name] = pos + len(body)
        body += blob
    table = struct.pack("<17I", *(offsets[n] for n in names)) + (b"\0" * 4 if table_len == 72 else b"")
    return magic + bytes([0, 0, 1, 1]) + b"\0" * 4 + table + body


def make_vk6(vk4: bytes, magic: bytes = b"VK6") -> bytes:
    """A VK6/VK7 file: a vendor prefix, then a ZIP archive with the VK4 stream as ``Vk4File``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Vk4File", vk4)
        zf.writestr("Info.xml", "<Info><Model>VK-X1050</Model></Info>")
    return magic + b"_" + b"\x01\x00\x00\x00" + bytes(24) + buf.getvalue()


def write(path: Path, data: bytes) -> Path:
    """Write bytes and return the path."""
    path.write_bytes(data)
    return path


# ----------------------------------------------------------------------------- Olympus LEXT / OLS


def make_lext(path: Path, counts: np.ndarray, dx_pm: float = 125_000.0, dy_pm: float = 126_000.0,
              z_pm: float = 1000.0, invalid: np.ndarray | None = None, intensity: np.ndarray | None = None) -> Path:
    """A LEXT-style TIFF: page 0 = 16-bit intensity with the <TiffTagDescData> XML, then HEIGHT (and INVALID)."""
    import tifffile

    xml = (
        '<?xml version="1.0" encoding="utf-16"?>\n<TiffTagDescData version="1.0">'
        f"<HeightInfo><HeightDataPerPixelX>{dx_pm}</HeightDataPerPixelX>"
        f"<HeightDataPerPixelY>{dy_pm}</HeightDataPerPixelY><HeightDataPerPixelZ>{z_pm}</HeightDataPerPixelZ>"
        "<HeightDataUnitX>1</HeightDataUnitX><HeightDataUnitY>1</HeightDataUnitY><HeightDataUnitZ>1</HeightDataUnitZ>"
        f"</HeightInfo><IntensityInfo><IntensityDataPerPixelX>{dx_pm}</IntensityDataPerPixelX>"
        f"<IntensityDataPerPixelY>{dy_pm}</IntensityDataPerPixelY><IntensityDataPerPixelZ>1</IntensityDataPerPixelZ>"
        "</IntensityInfo><ImageCommonSettingsInfo><ObjectiveLensType>MPLAPON50XLEXT</ObjectiveLensType>"
        "<ZoomMagnification>1.0</ZoomMagnification></ImageCommonSettingsInfo></TiffTagDescData>"
    )
    if intensity is None:
        intensity = np.full(counts.shape, 1000, np.uint16)
    with tifffile.TiffWriter(path) as tw:
        tw.write(intensity.astype(np.uint16), description=xml, metadata=None)
        tw.write(counts, description="HEIGHT", metadata=None)
        if invalid is not None:
            tw.write(invalid.astype(bool), description="INVALID", metadata=None)
        tw.write(np.zeros((8, 8, 3), np.uint8), photometric="rgb", description="THUMBNAIL", metadata=None)
    return path


def make_ols(path: Path, counts: np.ndarray, xy_nm: float = 250.0, z_nm: float = 10.0) -> Path:
    """An OLS3000-style TIFF: INI-like description, page 0 = texture, page 1 = height counts."""
    import tifffile

    text = (
        "[File Info]\r\nSystem Name =         OLS3000\r\nVersion = 1.0\r\n[File Info End]\r\n"
        f"[Data 1 Info]\r\nXY Convert Value = {xy_nm}\r\nZ Convert Value = 1\r\n[Data 1 Info End]\r\n"
        f"[Data 2 Info]\r\nXY Convert Value = {xy_nm}\r\nZ Convert Value = {z_nm}\r\n[Data 2 Info End]\r\n"
    )
    with tifffile.TiffWriter(path) as tw:
        tw.write(np.full(counts.shape, 50, np.uint16), description=text, metadata=None)
        tw.write(counts, metadata=None)
    return path


# ----------------------------------------------------------------------------- Zygo datx


def make_datx(path: Path, z: np.ndarray, unit: str = "MicroMeters", step_m: float = 0.5e-6,
              no_data: float | None = 1.7976931348623157e308, intensity: bool = True, vlen: bool = True) -> Path:
    """A datx-style HDF5 file: /MetaData links Root -> Measurement -> Surface -> Path."""
    import h5py

    text = h5py.string_dtype("ascii")
    params = h5py.vlen_dtype(np.float64) if vlen else np.dtype((np.float64, (4,)))
    conv_t = np.dtype([("Category", text), ("BaseUnit", text), ("Unit", text), ("Parameters", params)])

    def converter(category: str, base: str, unit_: str, values: list[float]) -> np.ndarray:
        rec = np.empty(1, conv_t)
        rec[0] = (category, base, unit_, np.asarray(values, np.float64))
        return rec

    with h5py.File(path, "w") as h5:
        meta_t = np.dtype([("Source", text), ("Link", text), ("Destination", text)])
        rows = [("Root", "Measurement", "{m-1}"), ("{m-1}", "Surface", "{s-1}"), ("{s-1}", "Path", "/Measurement/Surface")]
        h5.create_dataset("MetaData", data=np.array(rows, dtype=meta_t))
        data = np.where(np.isnan(z), no_data if no_data is not None else np.nan, z)
        ds = h5.create_dataset("Measurement/Surface", data=data.astype(np.float64))
        ds.attrs["Unit"] = np.array([unit.encode()])
        if no_data is not None:
            ds.attrs["No Data"] = np.array([no_data])
        ds.attrs["X Converter"] = converter("LateralCat", "Pixels", "Meters", [0.0, step_m, 0.0, 0.0])
        ds.attrs["Y Converter"] = converter("LateralCat", "Pixels", "Meters", [0.0, step_m, 0.0, 0.0])
        ds.attrs["Z Converter"] = converter("HeightCat", unit, unit, [632.8e-9, 1.0, 1.0, 1.0])
        if intensity:
            h5.create_dataset("Measurement/Intensity", data=np.full(z.shape, 123, np.uint16))
        grp = h5.create_group("Attributes/{a-1}")
        grp.attrs["Data Context.Data Attributes.System Type"] = np.array([b"NewView 9000"])
        grp.attrs["Data Context.Data Attributes.Wavelength"] = np.array([570e-9])
    return path


# ----------------------------------------------------------------------------- Sensofar plux


def make_plux(path: Path, layers: list[np.ndarray], step_um: float = 0.69, color: bool = True) -> Path:
    """A plux-style ZIP: index.xml (GENERAL, INFO, LAYER_n) and float32 layers."""
    rows, cols = layers[0].shape
    layer_xml = "".join(f"<LAYER_{i}><FILENAME_Z>LAYER_{i}.raw</FILENAME_Z></LAYER_{i}>" for i in range(len(layers)))
    index = (
        '<?xml version="1.0" encoding="UTF-8"?><xml><GENERAL><DATE>2024-05-06T10:11:12</DATE>'
        f"<IMAGE_SIZE_X>{cols}</IMAGE_SIZE_X><IMAGE_SIZE_Y>{rows}</IMAGE_SIZE_Y>"
        f"<FOV_X>{step_um}</FOV_X><FOV_Y>{step_um}</FOV_Y></GENERAL><INFO>"
        "<ITEM_0><NAME>Device</NAME><VALUE>S neox</VALUE></ITEM_0>"
        "<ITEM_1><NAME>Objective</NAME><VALUE>EPI 50X-N</VALUE></ITEM_1>"
        "<ITEM_2><NAME>Technique</NAME><VALUE>Confocal</VALUE></ITEM_2></INFO>"
        f"{layer_xml}</xml>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("index.xml", index)
        for i, layer in enumerate(layers):
            zf.writestr(f"LAYER_{i}.raw", layer.astype("<f4").tobytes())
        if color:
            zf.writestr("LAYER_0.stack.raw", np.zeros((rows, cols, 3), np.uint8).tobytes())
    return path
