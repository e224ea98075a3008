"""The DICOM options shared by ``process --dicom`` (identity, de-identification)."""

from __future__ import annotations

import argparse
import re
import sys


def add_dicom(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("DICOM (with --dicom)")
    g.add_argument(
        "--dicom",
        action="store_true",
        help="also write standard DICOM objects per input (clip, key frame, masks, report) "
        "in OUTDIR/<name>_dicom/, one study per input",
    )
    g.add_argument("--patient-name", default="", help="e.g. 'Doe^Jane' (family^given)")
    g.add_argument("--patient-id", default="")
    g.add_argument("--birth-date", default="", help="YYYYMMDD")
    g.add_argument("--sex", default="", choices=["", "M", "F", "O"])
    g.add_argument("--accession", default="", help="the order's accession number")
    g.add_argument(
        "--deidentified",
        action="store_true",
        help="teaching: no patient identity in the objects (the default when none is given)",
    )


def identity_from(args: argparse.Namespace):
    """(Identity, deidentified) from the options; ValueError with a plain line when wrong."""
    from ...inference.exam.dicom_write import Identity

    if args.birth_date and not re.fullmatch(r"\d{8}", args.birth_date):
        raise ValueError(f"--birth-date '{args.birth_date}' is not YYYYMMDD")
    ident = Identity(
        patient_name=args.patient_name,
        patient_id=args.patient_id,
        birth_date=args.birth_date,
        sex=args.sex,
        accession=args.accession,
        study_description="SonoLive clip",
    )
    given = any((args.patient_name, args.patient_id, args.birth_date, args.sex, args.accession))
    if args.deidentified and given:
        raise ValueError("--deidentified cannot go with a patient identity")
    if not given and not args.deidentified:
        print("no patient identity given: the DICOM objects are de-identified", file=sys.stderr)
    return ident, not given
