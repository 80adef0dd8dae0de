"""The sample REDCap files in docs/redcap/, generated from the instruments so they never drift.

    python -m phenotype_link.redcap.sample docs/redcap

writes the data dictionary, the same sample export in raw and in label form, and an example
mapping file with an export from a project that names things its own way. The subjects are demo
study codes (lims/demo.py numbers them from 1 over the sites NA1, NA2, EU1), none of them
withdrawn in the demo; only EU1-0002 has a visit 2 in the sample. The import checks each visit
date against the LIMS visit's, so the demo registers these subjects' visits on the dates below
(visit_dates()).
"""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

from phenotype_link.catalog import lims_instruments
from phenotype_link.redcap.cells import Value
from phenotype_link.redcap.dictionary import dictionary_csv
from phenotype_link.redcap.writer import ExportRow, write_export
from phenotype_link.scales import SCALES

SUBJECTS = ("NA2-0001", "EU1-0002", "NA2-0013", "NA2-0004")


def _event(visit: int) -> tuple[str, str]:
    return f"visit_{visit}_arm_1", f"Visit {visit} (Arm 1: Arm 1)"


def _scale(scale_id: str, level: int) -> dict[str, Value]:
    """Plausible answers for every item of a scale: the level-th allowed value, capped."""
    if scale_id not in SCALES:
        return {}
    scale = SCALES[scale_id]
    answers: dict[str, Value] = {
        item.id: item.values[min(level + n % 2, len(item.values) - 1)]
        for n, item in enumerate(scale.items)
    }
    return {**answers, f"{scale_id}_mode": "1"}


def _row(record: str, visit: int, values: dict[str, Value], **kw: object) -> ExportRow:
    event, label = _event(visit)
    return ExportRow(record, event, values, event_label=label, **kw)  # type: ignore[arg-type]


def sample_rows() -> list[ExportRow]:
    """Four subjects: cervical with toxin cycles, blepharospasm spreading to the jaw at visit 2,
    laryngeal with voice ratings and a Missing Data Code, limb with an oral drug and DBS."""
    cd, bsp, ld, limb = SUBJECTS
    rows = [
        _row(cd, 1, {"visit_date": date(2022, 4, 1), "visit_type": "1", "dx_type": "1",
             "dx_subtype": "11", "dx_regions": ("5",), "dx_onset_region": "5",
             "dx_onset_age": 47, "fh_dystonia": "0", **_scale("bfmdrs_m", 1)},
             data_access_group="na2"),
        _row(cd, 1, {"btx_date": date(2021, 11, 17), "btx_product": "1",
             "btx_dose_units": Decimal(200), "btx_muscles": ("2", "3"), "btx_guidance": "1"},
             repeat_instrument="botulinum_toxin", repeat_instance=1, data_access_group="na2"),
        _row(cd, 1, {"btx_date": date(2022, 3, 15), "btx_product": "1",
             "btx_dose_units": Decimal(220), "btx_muscles": ("2", "3", "8")},
             repeat_instrument="botulinum_toxin", repeat_instance=2, data_access_group="na2"),
        _row(bsp, 1, {"visit_date": date(2021, 4, 2), "visit_type": "1", "dx_type": "3",
             "dx_regions": ("1",), "dx_onset_region": "1", "dx_onset_age": 58,
             "dx_alcohol_responsive": "1", "fh_dystonia": "1", "fh_relatives": ("2",),
             **_scale("jrs", 2)}),
        _row(bsp, 2, {"visit_date": date(2022, 4, 22), "visit_type": "2", "dx_type": "6",
             "dx_subtype": "45", "dx_regions": ("1", "3"), "dx_onset_region": "1",
             "dx_onset_age": 58, **_scale("jrs", 3)}),
        _row(bsp, 2, {"btx_date": date(2022, 3, 21), "btx_product": "3",
             "btx_dose_units": Decimal("37.5"), "btx_muscles": ("13", "14")},
             repeat_instrument="botulinum_toxin", repeat_instance=1),
        _row(ld, 1, {"visit_date": date(2022, 1, 3), "visit_type": "1", "dx_type": "2",
             "dx_subtype": "21", "dx_regions": ("4",), "dx_onset_age": 39,
             "voice_severity_vas": 62, "voice_breaks": 14, "voice_has_tremor": False,
             "voice_nasolaryngoscopy": True, "fh_dystonia": "UNK"}),
        _row(ld, 1, {"gen_date": date(2022, 2, 1), "gen_method": "2", "gen_result": "6"},
             repeat_instrument="genetic_test", repeat_instance=1),
        _row(limb, 1, {"visit_date": date(2022, 9, 10), "visit_type": "1", "dx_type": "5",
             "dx_subtype": "51", "dx_regions": ("9",), "dx_onset_region": "9",
             "dx_onset_age": 34, "fh_dystonia": "2"}),
        _row(limb, 1, {"med_drug": "1", "med_daily_dose_mg": Decimal(6),
             "med_start_date": date(2020, 5, 1), "med_is_ongoing": True},
             repeat_instrument="oral_medication", repeat_instance=1),
        _row(limb, 1, {"dbs_date": date(2021, 3, 15), "dbs_target": "1", "dbs_side": "3"},
             repeat_instrument="dbs", repeat_instance=1),
    ]  # fmt: skip
    return rows


def visit_dates() -> dict[tuple[str, int], date]:
    """(study code, visit number) -> the sample's visit date, which the demo's visits keep."""
    found = {}
    for row in sample_rows():
        if isinstance(day := row.values.get("visit_date"), date):
            found[(row.record, int(row.event.split("_")[1]))] = day
    return found


# A project that named its fields, forms and events its own way, and the file that maps it.
OTHER_PROJECT = """\
study_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,vdate,dx,\
body___1,body___2,body___3,onset,site_comment,botox_injections_complete,inj_date,toxin,units
NA2-0001,baseline_arm_1,,,2022-04-01,CD,0,0,1,47,seen by Dr X,,,,
NA2-0001,baseline_arm_1,botox_injections,1,,,,,,,,2,2022-03-15,1,220
"""
OTHER_MAPPING = """\
# Their variable = our variable (docs/user/phenotype-import.md, "The mapping file")
[fields]
vdate = "visit_date"
dx = "dx_type"
body = "dx_regions"        # their checkbox body___<code> -> our dx_regions___<code>
onset = "dx_onset_age"
inj_date = "btx_date"
toxin = "btx_product"
units = "btx_dose_units"

[instruments]
botox_injections = "botulinum_toxin"

[events]
baseline_arm_1 = 1

[choices.dx_type]           # their code = our code
CD = "1"
BSP = "3"

[choices.dx_regions]        # their neck is 3, ours is 5
3 = "5"

[missing_codes]
UNK = "Unknown"

[ignore]
columns = ["site_comment"]  # free text we do not import
"""


def write_samples(folder: Path) -> list[Path]:
    instruments = lims_instruments()
    files = {
        "lims-dictionary.csv": dictionary_csv(instruments),
        "sample-export-raw.csv": write_export(sample_rows(), instruments),
        "sample-export-labels.csv": write_export(sample_rows(), instruments, labels=True),
        "other-project-export.csv": OTHER_PROJECT,
        "other-project-mapping.toml": OTHER_MAPPING,
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return [folder / name for name in files]


if __name__ == "__main__":
    for path in write_samples(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/redcap")):
        print(path)
