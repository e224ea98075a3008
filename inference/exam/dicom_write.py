"""Standard DICOM objects for an exam or a processed clip (Qt-free).

One :class:`Study` per exam: one Study Instance UID, and one series per kind of object:

* the annotated clip as a **Multi-frame True Color Secondary Capture** (every frame, JPEG
  Baseline: a clip of a few seconds stays a few megabytes);
* key frames as **Secondary Capture** (uncompressed RGB);
* the masks of a key frame as a **Segmentation** (highdicom, binary, one segment per class
  present), referencing that key frame;
* the report as **Encapsulated PDF**.

Identity comes from :class:`Identity` (typed by the user or taken from a worklist entry). A
de-identified study (teaching) carries no patient identity at all, says so
(Patient Identity Removed = YES) and is meant for ROI-only pictures.
UIDs are generated with :func:`pydicom.uid.generate_uid` (UUID-derived ``2.25.…``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.sequence import Sequence
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    ExplicitVRLittleEndian,
    JPEGBaseline8Bit,
    generate_uid,
)

MANUFACTURER = "SonoLive"
MODEL_NAME = "SonoLive"
SOFTWARE = "SonoLive 0.1"
NOT_DIAGNOSTIC = "Not for diagnostic use"

MF_TRUE_COLOR_SC = "1.2.840.10008.5.1.4.1.1.7.4"
SC = "1.2.840.10008.5.1.4.1.1.7"
ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"
SEGMENTATION = "1.2.840.10008.5.1.4.1.1.66.4"


@dataclass
class Identity:
    """Patient and study identity, as typed by the user or taken from a worklist entry."""

    patient_name: str = ""  # DICOM person name, e.g. "Doe^Jane"
    patient_id: str = ""
    birth_date: str = ""  # YYYYMMDD or ""
    sex: str = ""  # M, F, O or ""
    accession: str = ""
    referring_physician: str = ""
    study_description: str = "eFAST"
    study_uid: str = ""  # a worklist entry's Study Instance UID; "" makes a new one
    requested_procedure_id: str = ""

    def as_dict(self) -> dict[str, str]:
        return dict(self.__dict__)


@dataclass
class Study:
    """One exam: one Study Instance UID, its identity, and the series numbers handed out."""

    identity: Identity = field(default_factory=Identity)
    deidentified: bool = False
    when: datetime = field(default_factory=datetime.now)
    uid: str = ""
    study_id: str = "1"
    _series: int = 0

    def __post_init__(self) -> None:
        if self.deidentified:
            self.identity = Identity(study_description=self.identity.study_description)
        if not self.uid:
            self.uid = self.identity.study_uid or generate_uid()

    def next_series(self) -> int:
        self._series += 1
        return self._series


def _date(dt: datetime) -> str:
    return dt.strftime("%Y%m%d")


def _time(dt: datetime) -> str:
    return dt.strftime("%H%M%S")


def _base(
    study: Study, sop_class: str, modality: str, series: int, description: str, number: int = 1
) -> Dataset:
    """Patient, General Study, General Series, General Equipment and SOP Common modules."""
    ds = Dataset()
    now = datetime.now()
    ident = study.identity
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.InstanceCreationDate = _date(now)
    ds.InstanceCreationTime = _time(now)
    # patient
    ds.PatientName = ident.patient_name
    ds.PatientID = ident.patient_id
    ds.PatientBirthDate = ident.birth_date
    ds.PatientSex = ident.sex
    if study.deidentified:
        ds.PatientIdentityRemoved = "YES"
        ds.DeidentificationMethod = "SonoLive teaching mode: no identity entered, ROI-only"
    # study
    ds.StudyInstanceUID = study.uid
    ds.StudyDate = _date(study.when)
    ds.StudyTime = _time(study.when)
    ds.ReferringPhysicianName = ident.referring_physician
    ds.StudyID = study.study_id
    ds.AccessionNumber = ident.accession
    ds.StudyDescription = ident.study_description
    # series
    ds.Modality = modality
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = series
    ds.SeriesDescription = description
    ds.SeriesDate = _date(now)
    ds.SeriesTime = _time(now)
    # equipment
    ds.Manufacturer = MANUFACTURER
    ds.ManufacturerModelName = MODEL_NAME
    ds.SoftwareVersions = SOFTWARE
    ds.InstanceNumber = number
    ds.ContentDate = _date(now)
    ds.ContentTime = _time(now)
    return ds


def _finish(ds: Dataset, transfer_syntax: UID = ExplicitVRLittleEndian) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = transfer_syntax
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta = meta
    return ds


def _sc_equipment(ds: Dataset) -> None:
    ds.ConversionType = "WSD"  # workstation: the picture was made by software from video
    ds.SecondaryCaptureDeviceManufacturer = MANUFACTURER
    ds.SecondaryCaptureDeviceManufacturerModelName = MODEL_NAME
    ds.SecondaryCaptureDeviceSoftwareVersions = SOFTWARE


def _jpeg(frame: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    # 4:2:2 would be YBR_FULL_422 exactly; Pillow's subsampling=1 is 4:2:2
    Image.fromarray(frame).save(buf, "JPEG", quality=quality, subsampling=1)
    return buf.getvalue()


def _rgb_frames(frames) -> list[np.ndarray]:
    """The frames as contiguous H x W x 3 uint8 arrays of one size (ValueError otherwise)."""
    out = []
    for f in frames:
        a = np.ascontiguousarray(np.asarray(f, dtype=np.uint8))
        if a.ndim == 2:
            a = np.repeat(a[:, :, None], 3, axis=2)
        if a.ndim != 3 or a.shape[2] != 3:
            raise ValueError(f"expected H x W x 3 RGB frames, got shape {a.shape}")
        out.append(a)
    if not out:
        raise ValueError("a clip needs at least one frame")
    h, w = out[0].shape[:2]
    if any(a.shape[:2] != (h, w) for a in out):
        raise ValueError("all frames of a clip must have one size")
    return out


def clip_dataset(
    frames,
    fps: float,
    study: Study,
    *,
    description: str = "Annotated clip",
    quality: int = 90,
    series: tuple[int, str] | None = None,
    number: int = 1,
    comment: str = "",
) -> Dataset:
    """The clip as a Multi-frame True Color Secondary Capture holding every frame.

    ``series``: (number, Series Instance UID) to put several clips in one series; by default
    the clip gets a series of its own. ``frames`` may be any iterable (each frame is
    compressed as it comes, so a long clip is never held uncompressed)."""
    jpegs: list[bytes] = []
    shape = None
    for f in frames:
        a = _rgb_frames([f])[0]
        if shape is not None and a.shape != shape:
            raise ValueError("all frames of a clip must have one size")
        shape = a.shape
        jpegs.append(_jpeg(a, quality))
    if shape is None:
        raise ValueError("a clip needs at least one frame")
    h, w = shape[:2]
    ds = _base(
        study,
        MF_TRUE_COLOR_SC,
        "US",
        series[0] if series else study.next_series(),
        description,
        number,
    )
    if series:
        ds.SeriesInstanceUID = series[1]
    if comment:
        ds.ImageComments = comment[:10240]
    _sc_equipment(ds)
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.Laterality = ""
    ds.PatientOrientation = ""
    ds.BurnedInAnnotation = "YES"  # organ names and "Not for diagnostic use" on the picture
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "YBR_FULL_422"
    ds.PlanarConfiguration = 0
    ds.Rows, ds.Columns = h, w
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.NumberOfFrames = len(jpegs)
    fps = float(fps) if fps and fps > 0 else 30.0
    ds.FrameTime = f"{1000.0 / fps:.3f}"
    ds.FrameIncrementPointer = 0x00181063  # Frame Time
    ds.CineRate = max(1, round(fps))
    ds.RecommendedDisplayFrameRate = max(1, round(fps))
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionMethod = "ISO_10918_1"
    ds.PixelData = encapsulate(jpegs)
    ds["PixelData"].VR = "OB"
    ds.LossyImageCompressionRatio = f"{(h * w * 3 * len(jpegs)) / max(1, len(ds.PixelData)):.2f}"
    return _finish(ds, JPEGBaseline8Bit)


class KeyFrameSeries:
    """One series of Secondary Capture key frames."""

    def __init__(self, study: Study, description: str = "Key frames") -> None:
        self.study = study
        self.number = study.next_series()
        self.uid = generate_uid()
        self.description = description
        self.count = 0

    def add(self, image: np.ndarray, comment: str = "") -> Dataset:
        """One key frame as a Secondary Capture Image (uncompressed RGB)."""
        rgb = _rgb_frames([image])[0]
        self.count += 1
        ds = _base(self.study, SC, "US", self.number, self.description, self.count)
        ds.SeriesInstanceUID = self.uid
        _sc_equipment(ds)
        ds.ImageType = ["DERIVED", "SECONDARY"]
        ds.Laterality = ""
        ds.PatientOrientation = ""
        ds.BurnedInAnnotation = "NO"
        ds.SamplesPerPixel = 3
        ds.PhotometricInterpretation = "RGB"
        ds.PlanarConfiguration = 0
        ds.Rows, ds.Columns = rgb.shape[:2]
        ds.BitsAllocated = ds.BitsStored = 8
        ds.HighBit = 7
        ds.PixelRepresentation = 0
        ds.LossyImageCompression = "00"
        if comment:
            ds.ImageComments = comment[:10240]
        ds.PixelData = rgb.tobytes()
        ds["PixelData"].VR = "OB"
        return _finish(ds)


#: SNOMED CT codes for the classes SonoLive's models know; any other class gets a local code
_CODES = {
    "liver": ("10200004", "Liver"),
    "kidney": ("64033007", "Kidney"),
    "spleen": ("78961009", "Spleen"),
    "bladder": ("89837001", "Urinary bladder"),
    "heart": ("80891009", "Heart"),
    "nerve": ("3057000", "Nerve"),
    "vessel": ("59820001", "Blood vessel"),
}


def _segment(number: int, name: str, display: str, model: str, version: str):
    from highdicom import AlgorithmIdentificationSequence
    from highdicom.seg import SegmentDescription
    from highdicom.sr import CodedConcept

    anatomy = CodedConcept("123037004", "SCT", "Anatomical Structure")
    if name in _CODES:
        code, meaning = _CODES[name]
        category, kind = anatomy, CodedConcept(code, "SCT", meaning)
    elif name == "fluid":
        category = CodedConcept("49755003", "SCT", "Morphologically Altered Structure")
        kind = CodedConcept("33463005", "SCT", "Liquid substance")
    else:
        category, kind = anatomy, CodedConcept(name[:16].upper(), "99SONOLIVE", display[:64])
    algo = AlgorithmIdentificationSequence(
        name=model[:64], version=version[:64] or "1", family=CodedConcept("123109", "DCM", "AI")
    )
    return SegmentDescription(
        segment_number=number,
        segment_label=display[:64],
        segmented_property_category=category,
        segmented_property_type=kind,
        algorithm_type="AUTOMATIC",
        algorithm_identification=algo,
    )


def segmentation_dataset(
    source: Dataset,
    labels: np.ndarray,
    classes: list[tuple[str, str]],
    *,
    model: str,
    model_version: str,
    series: tuple[int, str] | None = None,
) -> Dataset | None:
    """The masks of one key frame as a binary DICOM Segmentation (highdicom).

    ``labels``: H x W class indices (the key frame's size); ``classes``: (name, display) in
    the model card's order, background first. None when no class but the background is in it.
    ``series``: (number, Series Instance UID) to share one series among key frames.
    """
    from highdicom.content import PixelMeasuresSequence
    from highdicom.seg import Segmentation

    labels = np.asarray(labels)
    if labels.shape != (source.Rows, source.Columns):
        raise ValueError(f"mask {labels.shape} does not match the key frame")
    present = [k for k in range(1, len(classes)) if (labels == k).any()]
    if not present:
        return None
    masks = np.stack([labels == k for k in present], axis=-1)[None].astype(np.uint8)
    descs = [
        _segment(i + 1, classes[k][0], classes[k][1], model, model_version)
        for i, k in enumerate(present)
    ]
    study = source.StudyInstanceUID
    seg = Segmentation(
        source_images=[source],
        pixel_array=masks,
        segmentation_type="BINARY",
        segment_descriptions=descs,
        series_instance_uid=series[1] if series else generate_uid(),
        series_number=series[0] if series else int(source.SeriesNumber) + 100,
        sop_instance_uid=generate_uid(),
        instance_number=int(source.InstanceNumber),
        manufacturer=MANUFACTURER,
        manufacturer_model_name=MODEL_NAME,
        software_versions=SOFTWARE,
        device_serial_number="0",
        content_label="MASKS",
        content_description=f"{model} {model_version}: {NOT_DIAGNOSTIC}"[:64],
        pixel_measures=PixelMeasuresSequence(pixel_spacing=(1.0, 1.0), slice_thickness=1.0),
    )
    assert seg.StudyInstanceUID == study
    seg.SeriesDescription = "Masks (model)"
    seg.PatientOrientation = ""  # ultrasound: no patient axes along the picture
    return seg


def pdf_dataset(pdf: bytes, study: Study, *, title: str = "eFAST exam report") -> Dataset:
    """The report as an Encapsulated PDF."""
    if not pdf.startswith(b"%PDF"):
        raise ValueError("not a PDF document")
    ds = _base(study, ENCAPSULATED_PDF, "DOC", study.next_series(), "Report")
    _sc_equipment(ds)
    ds.ConversionType = "SD"  # scanned document / synthetic: the PDF made by SonoLive
    ds.BurnedInAnnotation = "YES"
    ds.DocumentTitle = title
    ds.ConceptNameCodeSequence = Sequence()
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.AcquisitionDateTime = datetime.now().strftime("%Y%m%d%H%M%S")
    data = pdf + (b"\0" if len(pdf) % 2 else b"")
    ds.EncapsulatedDocument = data
    ds.EncapsulatedDocumentLength = len(pdf)
    return _finish(ds)


def save(ds: Dataset, path: str | Path) -> Path:
    """Write ``ds`` as a DICOM Part 10 file (temporary name, then renamed)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial")
    ds.save_as(tmp, enforce_file_format=True)
    tmp.replace(path)
    return path


def with_study(identity: Identity | None, deidentified: bool) -> Study:
    """A new study (one per exam or processed input)."""
    return Study(identity=replace(identity) if identity else Identity(), deidentified=deidentified)
