"""Open-data exports: ISO 19139 validated against the gmd XSD (from pycsw 2.6.2's wheel, a
test-only dependency), DCAT-AP validated against the DCAT-AP 3.0.1 SHACL shapes in tests/data.
No database: entries are built here."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path

import pyshacl
import pytest
from lxml import etree
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, SH, SKOS

from geoservice.server.records.dcat import dcat_graph, dcat_jsonld, dcat_turtle
from geoservice.server.records.iso19139 import iso19139, to_mcf
from geoservice.store import vocabularies as voc
from geoservice.store.records import Entry, FieldEntry, Link

BASE = "http://127.0.0.1:5000"
DCAT = Namespace("http://www.w3.org/ns/dcat#")  # rdflib's closed one warns under pytest
VALIDATION = Path(__file__).resolve().parent / "data" / "validation"  # see data/ATTRIBUTION.md
NS = {
    "gmd": "http://www.isotc211.org/2005/gmd",
    "gco": "http://www.isotc211.org/2005/gco",
    "gmx": "http://www.isotc211.org/2005/gmx",
    "gml": "http://www.opengis.net/gml/3.2",
    "xlink": "http://www.w3.org/1999/xlink",
}

FULL = Entry(
    id="prefectures",
    kind="dataset",
    title={"el": "Νομοί της Ελλάδας (πριν το 2011)", "en": "Prefectures of Greece (before 2011)"},
    description={"el": "Τα όρια των 55 νομών.", "en": "Boundaries of the 55 prefectures."},
    keywords={"el": ["νομοί", "διοικητικά όρια"], "en": ["prefectures", "administrative units"]},
    licence="CC-BY-4.0",
    licence_url="https://creativecommons.org/licenses/by/4.0/",
    attribution="geodata.gov.gr",
    contact={
        "department": {"el": "Διεύθυνση Χωρικού Σχεδιασμού", "en": "Spatial Planning Directorate"},
        "email": "gis@thessaloniki.gr",
        "phone": "+30 2310 877 000",
    },
    inspire_theme="au",
    bbox=[19.37, 34.80, 29.65, 41.75],
    source_crs="EPSG:2100",
    source_bbox=[104000, 3850000, 1008000, 4624000],
    temporal=["2001-01-01T00:00:00Z", "2010-12-31T23:59:59Z"],
    geometry_type="MultiPolygon",
    feature_count=55,
    fields=[
        FieldEntry("name_gr", "NAME_GR", "string", {"el": "Όνομα", "en": "Name"}, ["Ν. ΠΙΕΡΙΑΣ"]),
        FieldEntry("pop", "POP", "integer", {"el": "Πληθυσμός", "en": "Population"}),
    ],
    created="2026-11-22T03:00:00Z",
    updated="2026-11-22T03:08:55Z",
    update_frequency="notPlanned",
    links=[  # relative, as the loader stores them
        Link("/collections/prefectures", "collection", "application/json", "The collection"),
        Link("/collections/prefectures/items", "items", "application/geo+json", "Features"),
        Link(
            "/collections/prefectures/download",
            "enclosure",
            "application/geo+json",
            "Download GeoJSON",
        ),
    ],
)
# What a descriptor with only the required values gives: no bbox, contact or time.
MINIMAL = Entry(
    id="notes",
    kind="dataset",
    title={"el": "Σημειώσεις", "en": "Notes"},
    description={"el": "Σημειώσεις", "en": "Notes"},
    keywords={},
    licence=None,  # not stated: never assumed
)
ODBL_ROADS = dataclasses.replace(
    FULL,
    id="roads",
    title={"el": "Οδικό δίκτυο", "en": "Road network"},
    licence="ODbL-1.0",
    licence_url="https://opendatacommons.org/licenses/odbl/1-0/",
    inspire_theme="tn",
    update_frequency="weekly",
    temporal=["2020-01-01T00:00:00Z", None],
    keywords={"el": ["δρόμοι"], "en": ["roads", "streets"]},
    links=[Link("/collections/roads/items", "items", "application/geo+json", "Features")],
)
OTHER_LICENCE = dataclasses.replace(
    MINIMAL,
    id="parking",
    licence="LicenseRef-Thessaloniki-1.0",
    licence_url="https://thessaloniki.gr/opendata-licence",
)


# ----------------------------------------------------------------------------- ISO 19139


@pytest.fixture(scope="module")
def gmd_schema() -> etree.XMLSchema:
    """gmd.xsd (ISO 19139, 2007-04-17) from pycsw 2.6.2, plus gmx for the gmx:Anchor
    substitutes of gco:CharacterString (keyword and CRS URIs, licence link)."""
    spec = importlib.util.find_spec("pycsw")  # located, not imported
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("test dependency missing: pip install --no-deps 'pycsw==2.6.2' (ISO XSDs)")
    root = Path(next(iter(spec.submodule_search_locations)))
    xsd = root / "plugins/profiles/apiso/schemas/ogc/iso/19139/20070417"
    assert (xsd / "gmd" / "gmd.xsd").is_file()
    wrapper = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
      <xs:import namespace="{NS["gmd"]}" schemaLocation="{(xsd / "gmd/gmd.xsd").as_uri()}"/>
      <xs:import namespace="{NS["gmx"]}" schemaLocation="{(xsd / "gmx/gmx.xsd").as_uri()}"/>
    </xs:schema>"""
    return etree.XMLSchema(etree.fromstring(wrapper.encode()))


def _iso(entry: Entry) -> etree._Element:
    return etree.fromstring(iso19139(entry, BASE).encode("utf-8"))


def _assert_valid(schema: etree.XMLSchema, doc: etree._Element) -> None:
    assert schema.validate(doc), "\n".join(str(e) for e in schema.error_log)


OPEN_START = dataclasses.replace(FULL, id="open-start", temporal=[None, "2010-12-31T00:00:00Z"])


@pytest.mark.parametrize(
    "entry", [FULL, MINIMAL, ODBL_ROADS, OTHER_LICENCE, OPEN_START], ids=lambda e: e.id
)
def test_iso19139_validates_against_gmd_xsd(gmd_schema, entry):
    doc = _iso(entry)
    assert doc.tag == f"{{{NS['gmd']}}}MD_Metadata"
    _assert_valid(gmd_schema, doc)


def test_iso19139_open_time_period():
    begin = _iso(OPEN_START).find(".//gml:TimePeriod/gml:beginPosition", NS)
    assert begin.get("indeterminatePosition") == "unknown"
    end = _iso(ODBL_ROADS).find(".//gml:TimePeriod/gml:endPosition", NS)
    assert end.get("indeterminatePosition") == "now"


def test_gmd_xsd_rejects_an_incomplete_record(gmd_schema):
    """The validation can fail: MD_Metadata without its mandatory identificationInfo."""
    doc = _iso(FULL)
    doc.remove(doc.find("gmd:identificationInfo", NS))
    assert not gmd_schema.validate(doc)


def test_iso19139_is_bilingual():
    doc = _iso(FULL)
    title = doc.find("gmd:identificationInfo//gmd:citation/gmd:CI_Citation/gmd:title", NS)
    assert title.findtext("gco:CharacterString", namespaces=NS) == FULL.title["el"]
    english = title.find(".//gmd:LocalisedCharacterString", NS)
    assert english.text == FULL.title["en"]
    # the alternate language is declared, and the texts point to it
    locale = doc.find("gmd:locale/gmd:PT_Locale", NS)
    assert english.get("locale") == "#" + locale.get("id")
    assert locale.find(".//gmd:LanguageCode", NS).get("codeListValue") == "eng"
    assert doc.find("gmd:language/gmd:LanguageCode", NS).get("codeListValue") == "gre"
    abstract = doc.find(".//gmd:abstract", NS)
    assert (
        abstract.findtext(".//gmd:LocalisedCharacterString", namespaces=NS)
        == (FULL.description["en"])
    )


def test_iso19139_inspire_elements():
    doc = _iso(FULL)
    # INSPIRE theme keyword, an Anchor to the theme URI, from the GEMET thesaurus
    anchors = doc.findall(".//gmd:descriptiveKeywords//gmd:keyword/gmx:Anchor", NS)
    theme = [a for a in anchors if a.get(f"{{{NS['xlink']}}}href", "").endswith("/theme/au")]
    assert theme and theme[0].text == "Διοικητικές ενότητες"
    assert theme[0].get(f"{{{NS['xlink']}}}href") == "http://inspire.ec.europa.eu/theme/au"
    thesaurus = theme[0].getparent().getparent().find("gmd:thesaurusName//gmd:title/gmx:Anchor", NS)
    assert thesaurus.text == "GEMET - INSPIRE themes, version 1.0"
    assert doc.findtext(".//gmd:thesaurusName//gco:Date", namespaces=NS) == "2008-06-01"
    assert doc.findtext(".//gmd:topicCategory/gmd:MD_TopicCategoryCode", namespaces=NS) == (
        "boundaries"
    )
    # licence and public access
    other = [
        a.get(f"{{{NS['xlink']}}}href")
        for a in doc.findall(".//gmd:MD_LegalConstraints/gmd:otherConstraints/gmx:Anchor", NS)
    ]
    assert "https://creativecommons.org/licenses/by/4.0/" in other
    assert any(h.endswith("LimitationsOnPublicAccess/noLimitations") for h in other)
    # bbox (CRS84) and time
    box = doc.find(".//gmd:EX_GeographicBoundingBox", NS)
    assert [
        float(box.findtext(f"gmd:{side}/gco:Decimal", namespaces=NS))
        for side in (
            "westBoundLongitude",
            "southBoundLatitude",
            "eastBoundLongitude",
            "northBoundLatitude",
        )
    ] == FULL.bbox
    period = doc.find(".//gmd:temporalElement//gml:TimePeriod", NS)
    assert period.findtext("gml:beginPosition", namespaces=NS) == "2001-01-01T00:00:00Z"
    assert period.findtext("gml:endPosition", namespaces=NS) == "2010-12-31T23:59:59Z"
    # contact: department and email, role pointOfContact, for the metadata and the resource
    for path in ("gmd:contact", "gmd:identificationInfo//gmd:pointOfContact"):
        party = doc.find(f"{path}/gmd:CI_ResponsibleParty", NS)
        assert "Διεύθυνση Χωρικού Σχεδιασμού" in party.findtext(
            "gmd:organisationName/gco:CharacterString", namespaces=NS
        )
        assert "Spatial Planning Directorate" in party.findtext(
            ".//gmd:organisationName//gmd:LocalisedCharacterString", namespaces=NS
        )
        assert party.findtext(
            ".//gmd:electronicMailAddress/gco:CharacterString", namespaces=NS
        ) == ("gis@thessaloniki.gr")
        assert party.find("gmd:role/gmd:CI_RoleCode", NS).get("codeListValue") == "pointOfContact"
    # update frequency
    freq = doc.find(".//gmd:resourceMaintenance//gmd:MD_MaintenanceFrequencyCode", NS)
    assert freq.get("codeListValue") == "notPlanned"
    # distribution links: absolute, the collection, the items and the download
    urls = [u.text for u in doc.findall(".//gmd:transferOptions//gmd:URL", NS)]
    assert urls == [
        f"{BASE}/collections/prefectures",
        f"{BASE}/collections/prefectures/items",
        f"{BASE}/collections/prefectures/download",
    ]
    # reference system: the source CRS
    crs = doc.find(".//gmd:referenceSystemInfo//gmd:code/gmx:Anchor", NS)
    assert crs.text == "EPSG:2100"
    assert crs.get(f"{{{NS['xlink']}}}href") == "http://www.opengis.net/def/crs/EPSG/0/2100"


def test_iso19139_minimal_entry_has_no_empty_parts():
    doc = _iso(MINIMAL)
    assert doc.find(".//gmd:EX_GeographicBoundingBox", NS) is None
    assert doc.find(".//gmd:temporalElement", NS) is None
    assert doc.find(".//gmd:descriptiveKeywords", NS) is None
    # the municipality stands in as the contact
    assert doc.findtext("gmd:contact//gmd:organisationName/gco:CharacterString", namespaces=NS) == (
        "Δήμος Θεσσαλονίκης"
    )
    texts = [t.text for t in doc.iter(f"{{{NS['gco']}}}CharacterString")]
    assert all(t and t.strip() and t != "None" for t in texts)


def test_mcf_is_multilingual():
    mcf = to_mcf(FULL, BASE)
    assert mcf["metadata"]["language"] == "gre"
    assert mcf["metadata"]["language_alternate"] == "eng"
    assert mcf["identification"]["title"] == {"gre": FULL.title["el"], "eng": FULL.title["en"]}
    assert mcf["identification"]["keywords"]["inspire"]["keywords"] == {
        "gre": ["Διοικητικές ενότητες"],
        "eng": ["Administrative units"],
    }
    assert mcf["identification"]["extents"]["spatial"] == [{"bbox": FULL.bbox, "crs": 4326}]
    assert mcf["spatial"]["crs"] == 2100
    # keywords whose counts differ are not paired as translations
    kws = to_mcf(ODBL_ROADS, BASE)["identification"]["keywords"]
    assert kws["default_el"]["keywords"] == ["δρόμοι"]
    assert kws["default_en"]["keywords"] == ["roads", "streets"]


# ----------------------------------------------------------------------------- DCAT-AP


@pytest.fixture(scope="module")
def dcat_shapes() -> Graph:
    """DCAT-AP 3.0.1's shapes and class ranges. Five sh:property links in the release point to
    property shapes it defines nowhere (pyshacl refuses those): they are dropped."""
    shapes = Graph()
    shapes.parse(VALIDATION / "dcat-ap-3.0.1-dcat-ap-SHACL.ttl")
    shapes.parse(VALIDATION / "dcat-ap-3.0.1-ranges.ttl")
    for node, prop in list(shapes.subject_objects(SH.property)):
        if shapes.value(prop, SH.path) is None:
            shapes.remove((node, SH.property, prop))
    return shapes


def _validate(graph: Graph, shapes: Graph) -> tuple[bool, str]:
    # rdfs inference: the ranges file asks some values (endpoint URLs) to be rdfs:Resource
    conforms, _, text = pyshacl.validate(
        graph, shacl_graph=shapes, inference="rdfs", allow_warnings=True
    )
    return conforms, text


ENTRIES = [FULL, MINIMAL, ODBL_ROADS, OTHER_LICENCE]


def test_dcat_conforms_to_dcat_ap_shapes(dcat_shapes):
    conforms, text = _validate(dcat_graph(ENTRIES, BASE), dcat_shapes)
    assert conforms, text


def test_dcat_dataset_without_description_fails(dcat_shapes):
    """The validation can fail: a dataset without its mandatory dct:description."""
    g = dcat_graph(ENTRIES, BASE)
    ds = URIRef(f"{BASE}/collections/prefectures#dataset")
    g.remove((ds, DCTERMS.description, None))
    conforms, text = _validate(g, dcat_shapes)
    assert not conforms
    assert "description" in text


def test_dcat_distribution_without_access_url_fails(dcat_shapes):
    g = dcat_graph([FULL], BASE)
    g.remove((None, DCAT.accessURL, None))
    assert not _validate(g, dcat_shapes)[0]


def _eu_tables(vocab_shapes: Graph) -> dict[tuple[URIRef, URIRef], set[str]]:
    """From the mdr-vocabularies shapes: (target class, property) -> the authority tables its
    values must belong to (the sh:hasValue of skos:inScheme in the restriction it names)."""
    tables: dict[tuple[URIRef, URIRef], set[str]] = {}
    for shape in vocab_shapes.subjects(RDF.type, SH.NodeShape):
        target = vocab_shapes.value(shape, SH.targetClass)
        if target is None:  # used only through sh:node from a targeted shape
            continue
        for prop in vocab_shapes.objects(shape, SH.property):
            if vocab_shapes.value(prop, SH.severity) != SH.Violation:
                continue
            for restriction in vocab_shapes.objects(prop, SH.node):
                for p in vocab_shapes.objects(restriction, SH.property):
                    scheme = vocab_shapes.value(p, SH.hasValue)
                    if vocab_shapes.value(p, SH.path) == SKOS.inScheme and scheme is not None:
                        key = (target, vocab_shapes.value(prop, SH.path))
                        tables.setdefault(key, set()).add(str(scheme))
    return tables


def test_dcat_values_come_from_eu_authority_tables():
    """The vocabulary shapes need the EU tables' own data (not available offline); they are
    read here for which property must hold values from which table, checked by URI prefix."""
    vocab_shapes = Graph().parse(VALIDATION / "dcat-ap-3.0.1-mdr-vocabularies.shape.ttl")
    tables = _eu_tables(vocab_shapes)
    assert tables[(DCAT.Dataset, DCTERMS.accrualPeriodicity)] == {voc.EU_FREQUENCY}
    assert tables[(DCAT.Distribution, DCTERMS["format"])] == {voc.EU_FILE_TYPE}
    g = dcat_graph(ENTRIES, BASE)
    checked = 0
    for (cls, prop), schemes in tables.items():
        for subject in g.subjects(RDF.type, cls):
            for value in g.objects(subject, prop):
                assert any(str(value).startswith(s + "/") for s in schemes), (cls, prop, value)
                checked += 1
    assert checked >= 10  # frequencies, languages, formats were all seen
    # the ones the vocabulary shapes leave as warnings or do not cover
    for ds in g.subjects(RDF.type, DCAT.Dataset):
        themes = {str(t) for t in g.objects(ds, DCAT.theme)}
        assert all(
            t.startswith((voc.EU_DATA_THEME + "/", voc.INSPIRE_THEMES + "/")) for t in themes
        )
    for dist in g.subjects(RDF.type, DCAT.Distribution):
        for media in g.objects(dist, DCAT.mediaType):
            assert str(media).startswith(voc.IANA_MEDIA_TYPES)


def _dataset(g: Graph, entry_id: str) -> URIRef:
    return next(s for s in g.subjects(DCTERMS.identifier, Literal(entry_id)))


def test_dcat_dataset_content():
    g = dcat_graph(ENTRIES, BASE)
    catalog = next(g.subjects(RDF.type, DCAT.Catalog))
    assert {lit.language for lit in g.objects(catalog, DCTERMS.title)} == {"el", "en"}
    assert len(list(g.objects(catalog, DCAT.dataset))) == len(ENTRIES)
    ds = _dataset(g, "prefectures")
    assert set(g.objects(ds, DCTERMS.title)) == {
        Literal(FULL.title["el"], lang="el"),
        Literal(FULL.title["en"], lang="en"),
    }
    assert Literal("νομοί", lang="el") in set(g.objects(ds, DCAT.keyword))
    assert Literal("prefectures", lang="en") in set(g.objects(ds, DCAT.keyword))
    eu = voc.EU_AUTHORITY
    assert set(g.objects(ds, DCTERMS.language)) == {
        URIRef(eu + "language/ELL"),
        URIRef(eu + "language/ENG"),
    }
    assert set(g.objects(ds, DCAT.theme)) == {
        URIRef(eu + "data-theme/REGI"),
        URIRef(eu + "data-theme/GOVE"),
        URIRef("http://inspire.ec.europa.eu/theme/au"),
    }
    assert g.value(ds, DCTERMS.accrualPeriodicity) == URIRef(eu + "frequency/NOT_PLANNED")
    bbox = g.value(g.value(ds, DCTERMS.spatial), DCAT.bbox)
    assert str(bbox).startswith("POLYGON((19.37 34.8, 29.65 34.8")
    period = g.value(ds, DCTERMS.temporal)
    assert str(g.value(period, DCAT.startDate)).startswith("2001-01-01")
    assert str(g.value(period, DCAT.endDate)).startswith("2010-12-31")
    contact = g.value(ds, DCAT.contactPoint)
    assert g.value(contact, URIRef("http://www.w3.org/2006/vcard/ns#hasEmail")) == URIRef(
        "mailto:gis@thessaloniki.gr"
    )
    dists = {str(g.value(d, DCAT.accessURL)): d for d in g.objects(ds, DCAT.distribution)}
    items = dists[f"{BASE}/collections/prefectures/items"]
    download = dists[f"{BASE}/collections/prefectures/download"]
    for d in (items, download):
        assert g.value(d, DCTERMS["format"]) == URIRef(eu + "file-type/GEOJSON")
        assert g.value(d, DCAT.mediaType) == URIRef(
            "https://www.iana.org/assignments/media-types/application/geo+json"
        )
        assert g.value(d, DCTERMS.license) == URIRef(eu + "licence/CC_BY_4_0")
    assert g.value(download, DCAT.downloadURL) == URIRef(f"{BASE}/collections/prefectures/download")
    assert g.value(items, DCAT.downloadURL) is None


def test_dcat_licences_and_optional_parts():
    g = dcat_graph(ENTRIES, BASE)
    roads = _dataset(g, "roads")
    (dist,) = g.objects(roads, DCAT.distribution)
    assert g.value(dist, DCTERMS.license) == URIRef(voc.EU_LICENCE + "/ODC_BL")
    assert URIRef(voc.EU_DATA_THEME + "/TRAN") in set(g.objects(roads, DCAT.theme))
    assert g.value(roads, DCTERMS.accrualPeriodicity) == URIRef(voc.EU_FREQUENCY + "/WEEKLY")
    assert g.value(g.value(roads, DCTERMS.temporal), DCAT.endDate) is None  # open-ended
    # an id the EU table lacks keeps its own licence document
    doc = URIRef("https://thessaloniki.gr/opendata-licence")
    assert (doc, RDF.type, DCTERMS.LicenseDocument) in g
    minimal = _dataset(g, "notes")
    for prop in (DCTERMS.spatial, DCTERMS.temporal, DCAT.contactPoint, DCAT.distribution):
        assert g.value(minimal, prop) is None


def test_vocabulary_mappings():
    assert voc.licence_uri("CC-BY-4.0") == voc.EU_LICENCE + "/CC_BY_4_0"
    assert voc.licence_uri("cc0-1.0") == voc.EU_LICENCE + "/CC0"
    assert voc.licence_uri("CC-BY-SA-4.0") == voc.EU_LICENCE + "/CC_BYSA_4_0"
    assert voc.licence_uri("GPL-3.0") == voc.EU_LICENCE + "/GPL_3_0"
    assert voc.licence_uri("unknown") is None
    assert voc.frequency_uri("fortnightly") == voc.EU_FREQUENCY + "/BIWEEKLY"
    assert voc.frequency_uri("no-such-code") == voc.EU_FREQUENCY + "/UNKNOWN"
    assert len(voc.INSPIRE) == 34
    assert all(set(t.data_themes) <= set(voc.DATA_THEMES) for t in voc.INSPIRE.values())


def test_dcat_serialisations_round_trip():
    turtle = dcat_turtle([FULL], BASE)
    assert "dcat:Catalog" in turtle
    assert len(Graph().parse(data=turtle, format="turtle")) == len(dcat_graph([FULL], BASE))
    jsonld = dcat_jsonld([FULL], BASE)
    assert "@context" in json.loads(jsonld)
    parsed = Graph().parse(data=jsonld, format="json-ld")
    assert len(parsed) == len(dcat_graph([FULL], BASE))


# -- the exports as served, from the real catalogue --------------------------------------


def test_served_iso_records_validate(client, demo_collections, gmd_schema):
    for record_id in demo_collections:
        response = client.get(f"/collections/catalogue/items/{record_id}/iso19139")
        assert response.status_code == 200 and response.mimetype == "application/xml"
        _assert_valid(gmd_schema, etree.fromstring(response.data))


def test_served_dcat_catalogue_conforms(client, demo_collections, dcat_shapes):
    response = client.get("/collections/catalogue/dcat")
    assert response.mimetype == "text/turtle"
    graph = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    conforms, report = _validate(graph, dcat_shapes)
    assert conforms, report
    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) >= len(demo_collections)
    as_jsonld = client.get("/collections/catalogue/dcat?f=jsonld")
    assert as_jsonld.mimetype == "application/ld+json"
    assert len(Graph().parse(data=as_jsonld.get_data(as_text=True), format="json-ld")) == len(graph)


def test_iso19139_compiles_the_template_once():
    """pygeometa's own writer recompiles its templates for every record, which costs more
    than the rest of an export: the compiled template is kept for the process."""
    from geoservice.server.records.iso19139 import _iso_template

    iso19139(FULL, BASE)
    before = _iso_template.cache_info()
    for entry in ENTRIES * 10:
        iso19139(entry, BASE)
    after = _iso_template.cache_info()
    assert after.misses == before.misses and after.hits >= before.hits + len(ENTRIES) * 10


# -- catalogued resources (documents, services, datasets held elsewhere) --------------------


def _demo_resources() -> list[Entry]:
    from geoservice.settings import PROJECT_ROOT
    from loaders import resources

    return [
        resources.entry_for_resource(resources.load_resource(path), "2026-01-01T00:00:00Z")
        for path in sorted((PROJECT_ROOT / "collections").glob("*.yml"))
        if resources.declares_resource(path)
    ]


def test_resources_validate_as_iso19139(gmd_schema):
    resources = _demo_resources()
    assert {e.kind for e in resources} == {"document", "service", "externalDataset"}
    for entry in resources:
        doc = _iso(entry)
        _assert_valid(gmd_schema, doc)
        scope = doc.find("gmd:hierarchyLevel/gmd:MD_ScopeCode", NS).get("codeListValue")
        assert scope == {"document": "nonGeographicDataset", "service": "service"}.get(
            entry.kind, "dataset"
        )
        # the record points at the resource itself, with the link's own protocol
        options = doc.findall(".//gmd:transferOptions//gmd:CI_OnlineResource", NS)
        urls = {o.findtext("gmd:linkage/gmd:URL", namespaces=NS) for o in options}
        assert urls == {link.href for link in entry.links}
        lineage = doc.findtext(".//gmd:lineage//gmd:statement/gco:CharacterString", namespaces=NS)
        assert "OGC API Features" not in lineage  # not served by us
    wms = next(e for e in resources if e.kind == "service")
    protocols = [p.text for p in _iso(wms).findall(".//gmd:transferOptions//gmd:protocol/*", NS)]
    assert "OGC:WMS" in protocols


def test_resources_in_dcat(dcat_shapes):
    resources = _demo_resources()
    g = dcat_graph(ENTRIES + resources, BASE)
    conforms, text = _validate(g, dcat_shapes)
    assert conforms, text
    catalog = next(g.subjects(RDF.type, DCAT.Catalog))
    # the web service: a DataService of the catalogue, its endpoint and standard
    wms = next(e for e in resources if e.kind == "service")
    svc = _dataset(g, wms.id)
    assert (svc, RDF.type, DCAT.DataService) in g and (catalog, DCAT.service, svc) in g
    assert str(g.value(svc, DCAT.endpointURL)) == wms.links[0].href.split("?")[0]
    assert str(g.value(svc, DCAT.endpointDescription)) == wms.links[0].href
    assert g.value(svc, DCTERMS.conformsTo) == URIRef(
        "http://www.opengis.net/def/serviceType/ogc/wms"
    )
    # the document: a dataset whose PDF is a download, its web page the landing page
    plan = next(e for e in resources if e.kind == "document")
    ds = _dataset(g, plan.id)
    assert (catalog, DCAT.dataset, ds) in g
    assert str(ds) == f"{BASE}/collections/catalogue/items/{plan.id}#dataset"
    (dist,) = g.objects(ds, DCAT.distribution)
    pdf = next(link for link in plan.links if link.type == "application/pdf")
    assert str(g.value(dist, DCAT.downloadURL)) == pdf.href
    assert g.value(dist, DCTERMS["format"]) == URIRef(voc.EU_FILE_TYPE + "/PDF")
    page = next(link for link in plan.links if link.type == "text/html")
    assert str(g.value(ds, DCAT.landingPage)) == page.href


def test_served_resource_exports(client, demo_collections, gmd_schema):
    for entry in _demo_resources():
        response = client.get(f"/collections/catalogue/items/{entry.id}/iso19139")
        assert response.status_code == 200, entry.id
        _assert_valid(gmd_schema, etree.fromstring(response.data))
    graph = Graph().parse(data=client.get("/collections/catalogue/dcat").get_data(as_text=True))
    assert len(set(graph.subjects(RDF.type, DCAT.DataService))) >= 1
    assert _dataset(graph, "zoning-plan-thessaloniki") in set(
        graph.subjects(RDF.type, DCAT.Dataset)
    )


def test_dcat_says_who_may_see_each_dataset(dcat_shapes):
    """dct:accessRights from the EU access-right table: staff see what is internal."""
    internal = dataclasses.replace(ODBL_ROADS, access="internal")
    restricted = dataclasses.replace(OTHER_LICENCE, access="restricted")
    g = dcat_graph([FULL, internal, restricted], BASE)
    right = voc.EU_AUTHORITY + "access-right/"
    for entry_id, code in ((FULL.id, "PUBLIC"), (internal.id, "NON_PUBLIC"),
                           (restricted.id, "RESTRICTED")):  # fmt: skip
        assert set(g.objects(_dataset(g, entry_id), DCTERMS.accessRights)) == {URIRef(right + code)}
    conforms, text = _validate(g, dcat_shapes)
    assert conforms, text
