"""Checks a Kring hand-over with implementations no one at Kring wrote.

    check_handover.py BUNDLE.json PLAN.pdf EXPECTED.json

FHIR: every resource of the bundle is validated by `fhir.resources` (R4B, 4.3.0: the
R4 technical correction; CarePlan, Goal, CareTeam, Patient, RelatedPerson and
Practitioner are as in R4 4.0.1), codes with a required binding are checked against
their value sets, and every reference resolves inside the bundle.
PDF: `pypdf` extracts the text, which must hold every expected text; `pikepdf` (qpdf)
reads the PDF/A identification from the XMP metadata (part 2, conformance B), the
output intent, and checks that every font is embedded.

EXPECTED.json: {"texts": [...], "absent_from_fhir": [...]}. Prints what it found as
JSON; exits 1 with the reasons if anything is wrong.
"""

import json
import re
import sys

import pikepdf
import pypdf
from fhir.resources.R4B import get_fhir_model_class

# Required bindings of the elements Kring writes (FHIR R4 value sets).
CODES = {
    ("CarePlan", "status"): {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"},
    ("CarePlan", "intent"): {"proposal", "plan", "order", "option"},
    ("Goal", "lifecycleStatus"): {"proposed", "planned", "accepted", "active", "on-hold", "completed", "cancelled", "entered-in-error", "rejected"},
    ("CareTeam", "status"): {"proposed", "active", "suspended", "inactive", "entered-in-error"},
}
DETAIL_STATUS = {"not-started", "scheduled", "in-progress", "on-hold", "completed", "cancelled", "stopped", "unknown", "entered-in-error"}
DETAIL_KIND = {"Appointment", "CommunicationRequest", "DeviceRequest", "MedicationRequest", "NutritionOrder", "Task", "ServiceRequest", "VisionPrescription"}


def references(value):
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "reference" and isinstance(inner, str):
                yield inner
            else:
                yield from references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from references(inner)


def check_fhir(bundle, problems):
    get_fhir_model_class("Bundle").model_validate(bundle)
    urls = {entry["fullUrl"] for entry in bundle["entry"]}
    types = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        kind = resource["resourceType"]
        get_fhir_model_class(kind).model_validate(resource)
        types[kind] = types.get(kind, 0) + 1
        for (of, field), allowed in CODES.items():
            if kind == of and resource.get(field) not in allowed:
                problems.append(f"{kind}.{field} = {resource.get(field)!r} is not in its value set")
        for activity in resource.get("activity", []):
            detail = activity.get("detail", {})
            if detail.get("status") not in DETAIL_STATUS or detail.get("kind") not in DETAIL_KIND:
                problems.append(f"CarePlan.activity.detail {detail.get('kind')}/{detail.get('status')} is not in its value set")
        for ref in references(resource):
            if ref not in urls:
                problems.append(f"{kind} refers to {ref}, which is not in the bundle")
    return types


def check_pdf(path, texts, problems):
    reader = pypdf.PdfReader(path)
    extracted = " ".join(page.extract_text() for page in reader.pages)
    flat = re.sub(r"\s+", " ", extracted)
    for text in texts:
        if re.sub(r"\s+", " ", text) not in flat:
            problems.append(f"the PDF's text does not hold {text!r}")
    pdf = pikepdf.open(path)
    meta = pdf.open_metadata()
    part = meta.get("pdfaid:part")
    conformance = meta.get("pdfaid:conformance")
    if (part, conformance) != ("2", "B"):
        problems.append(f"PDF/A identification is part {part!r}, conformance {conformance!r}, not 2/B")
    intents = pdf.Root.get("/OutputIntents")
    if not intents or not any(str(i.get("/S")) == "/GTS_PDFA1" for i in intents):
        problems.append("no PDF/A output intent")
    fonts = 0
    for page in pdf.pages:
        for _, font in (page.Resources.get("/Font") or {}).items():
            fonts += 1
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0] if descendants else font).get("/FontDescriptor")
            if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                problems.append(f"font {font.get('/BaseFont')} is not embedded")
    return {"pages": len(reader.pages), "fonts": fonts, "pdfa": f"{part}{conformance}", "text": flat}


def main():
    bundle_path, pdf_path, expected_path = sys.argv[1:4]
    with open(bundle_path, encoding="utf-8") as f:
        raw = f.read()
    with open(expected_path, encoding="utf-8") as f:
        expected = json.load(f)
    problems = []
    types = check_fhir(json.loads(raw), problems)
    for word in expected.get("absent_from_fhir", []):
        if word in raw:
            problems.append(f"the FHIR bundle holds {word!r}, which was not consented to")
    pdf = check_pdf(pdf_path, expected["texts"], problems)
    print(json.dumps({"fhir": types, "pdf": pdf, "problems": problems}, ensure_ascii=False))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
