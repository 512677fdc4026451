"""Open-data exports of catalogue entries, for national and European portals to harvest:

- ISO 19139 / INSPIRE metadata XML (gmd:MD_Metadata), written by pygeometa from its MCF, Greek
  with English as the PT_FreeText alternate language;
- DCAT-AP 3 RDF (an rdflib graph, Turtle or JSON-LD) with EU vocabulary URIs for licence,
  format, language, theme and frequency, and literals tagged @el and @en.

`base_url` is the server's public root (no trailing slash needed): entries' relative link
hrefs are resolved against it and the DCAT catalogue is named by it.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import jinja2
from lxml import etree
from pygeometa import core as pygeometa_core
from pygeometa.schemas.iso19139 import ISO19139OutputSchema
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SKOS, XSD

from geoservice.server.records.api import CATALOGUE_ID
from geoservice.store import vocabularies as voc
from geoservice.store.records import Bilingual, Entry, Link

DEFAULT_LANGUAGE = "el"
ALTERNATE_LANGUAGE = "en"

# Who publishes the catalogue (the DCAT publisher, the ISO metadata contact).
PUBLISHER_NAME: Bilingual = {"el": "Δήμος Θεσσαλονίκης", "en": "Municipality of Thessaloniki"}
PUBLISHER_URI = "https://thessaloniki.gr/"
CATALOGUE_TITLE: Bilingual = {
    "el": "Κατάλογος χωρικών δεδομένων του Δήμου Θεσσαλονίκης",
    "en": "Spatial data catalogue of the Municipality of Thessaloniki",
}
CATALOGUE_DESCRIPTION: Bilingual = {
    "el": "Τα χωρικά δεδομένα του Δήμου Θεσσαλονίκης, ανοιχτά μέσω OGC API Features.",
    "en": "The spatial data of the Municipality of Thessaloniki, open through OGC API Features.",
}
API_TITLE: Bilingual = {
    "el": "Υπηρεσία χωρικών δεδομένων (OGC API Features)",
    "en": "Spatial data service (OGC API Features)",
}
OGC_API_FEATURES = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"

GMD = "http://www.isotc211.org/2005/gmd"
GCO = "http://www.isotc211.org/2005/gco"
GMX = "http://www.isotc211.org/2005/gmx"
GML32 = "http://www.opengis.net/gml/3.2"
XLINK = "http://www.w3.org/1999/xlink"
_CODELISTS = "http://www.isotc211.org/2005/resources/Codelist/gmxCodelists.xml"
NO_LIMITATIONS = (
    "http://inspire.ec.europa.eu/metadata-codelist/LimitationsOnPublicAccess/noLimitations"
)
NS = {"gmd": GMD, "gco": GCO, "gmx": GMX, "xlink": XLINK}

ADMS = Namespace("http://www.w3.org/ns/adms#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")

# Link relation -> (ISO online-resource protocol, CI_OnLineFunctionCode).
_PROTOCOLS = {
    "collection": ("OGC:API-Features", "information"),
    "items": ("OGC:API-Features", "download"),
    "enclosure": ("WWW:DOWNLOAD-1.0-http--download", "download"),
}
_GEOMETRY_OBJECTS = {
    "point": "point",
    "multipoint": "point",
    "linestring": "curve",
    "multilinestring": "curve",
    "polygon": "surface",
    "multipolygon": "surface",
}
# Relations of a resource's link to a page about it (DCAT landing page), not to the resource.
_PAGE_RELS = ("about", "describedby", "related")
# A service's protocol (as ISO 19139 and resource descriptors name it) -> its standard.
SERVICE_STANDARDS = {
    "OGC:WMS": "http://www.opengis.net/def/serviceType/ogc/wms",
    "OGC:WMTS": "http://www.opengis.net/def/serviceType/ogc/wmts",
    "OGC:WFS": "http://www.opengis.net/def/serviceType/ogc/wfs",
    "OGC:WCS": "http://www.opengis.net/def/serviceType/ogc/wcs",
    "OGC:CSW": "http://www.opengis.net/def/serviceType/ogc/csw",
    "OGC:API-Features": OGC_API_FEATURES,
}
_FORMAT_NAMES = {"GEOJSON": "GeoJSON", "GPKG": "GeoPackage", "SHP": "ESRI Shapefile"}
_SCOPE = {
    "dataset": "dataset",
    "externalDataset": "dataset",
    "document": "nonGeographicDataset",
    "service": "service",
}


# ----------------------------------------------------------------------------- shared helpers


def _base(base_url: str) -> str:
    return base_url.rstrip("/")


def _href(link: Link, base_url: str) -> str:
    """A link's absolute URL (the loader stores hrefs relative to the server root)."""
    if link.href.startswith(("http://", "https://")):
        return link.href
    return _base(base_url) + "/" + link.href.lstrip("/")


def _link(entry: Entry, rel: str) -> Link | None:
    return next((lk for lk in entry.links if lk.rel == rel), None)


def _resource_uri(entry: Entry, base_url: str) -> str:
    """The resource's IRI: its OGC API collection when it has one, else its catalogue record
    (a document, service or external dataset lives elsewhere; its record is ours)."""
    coll = _link(entry, "collection")
    if coll:
        return _href(coll, base_url)
    return f"{_base(base_url)}/collections/{CATALOGUE_ID}/items/{entry.id}"


def _is_layer(entry: Entry) -> bool:
    """A layer served here (kind "dataset"), not a catalogued resource (resources.py)."""
    return entry.kind == "dataset"


def _landing_page_link(entry: Entry) -> Link | None:
    """A resource's web page: its first HTML link that is about it rather than it."""
    return next(
        (
            lk
            for lk in entry.links
            if lk.rel in _PAGE_RELS and lk.type.split(";")[0].strip() == "text/html"
        ),
        None,
    )


def _text(texts: Bilingual | None, lang: str) -> str | None:
    """The text in a language, falling back to the other one (a one-language descriptor)."""
    if not texts:
        return None
    return texts.get(lang) or next((t for t in texts.values() if t), None)


def _epsg(crs: str | None) -> int | None:
    if crs and crs.upper().startswith("EPSG:") and crs[5:].isdigit():
        return int(crs[5:])
    return None


# ----------------------------------------------------------------------------- ISO 19139


def _i18n(texts: Bilingual | None) -> dict[str, str] | None:
    """Bilingual text as MCF's multilingual dict, keyed by the ISO 639-2 codes the record uses."""
    if not texts:
        return None
    return {
        voc.LANGUAGE_ISO639_2[lang]: _text(texts, lang) or ""
        for lang in (DEFAULT_LANGUAGE, ALTERNATE_LANGUAGE)
    }


def _mcf_contact(entry: Entry) -> dict[str, Any]:
    c = entry.contact or {}
    department = c.get("department") or {}
    organisation = {
        lang: ", ".join(t for t in (PUBLISHER_NAME[lang], _text(department, lang)) if t)
        for lang in (DEFAULT_LANGUAGE, ALTERNATE_LANGUAGE)
    }
    contact: dict[str, Any] = {
        "organization": _i18n(organisation),
        "url": c.get("url") or PUBLISHER_URI,
    }
    for key in ("email", "phone"):
        if c.get(key):
            contact[key] = c[key]
    if c.get("name"):
        contact["individualname"] = c["name"]
    return contact


def _mcf_keywords(entry: Entry) -> dict[str, Any]:
    keywords: dict[str, Any] = {}
    el = entry.keywords.get(DEFAULT_LANGUAGE) or []
    en = entry.keywords.get(ALTERNATE_LANGUAGE) or []
    if el and len(el) == len(en):  # translations of each other, pairwise
        keywords["default"] = {
            "keywords": {"gre": el, "eng": en},
            "keywords_type": "theme",
        }
    else:  # not pairable: each language's words as they are
        for lang, words in ((DEFAULT_LANGUAGE, el), (ALTERNATE_LANGUAGE, en)):
            if words:
                keywords[f"default_{lang}"] = {"keywords": words, "keywords_type": "theme"}
    theme = voc.INSPIRE.get(entry.inspire_theme or "")
    if theme:
        keywords["inspire"] = {
            "keywords": {"gre": [theme.el], "eng": [theme.en]},
            "keywords_type": "theme",
            "vocabulary": {
                "name": voc.INSPIRE_THESAURUS_TITLE,
                "url": voc.INSPIRE_THESAURUS_URL,
            },
        }
    return keywords


def _mcf_distribution(entry: Entry, base_url: str) -> dict[str, Any]:
    dist: dict[str, Any] = {}
    formats: set[str] = set()  # each format named once in gmd:distributionFormat
    for i, link in enumerate(entry.links):
        protocol, function = _PROTOCOLS.get(link.rel, ("WWW:LINK", "information"))
        protocol = link.protocol or protocol
        code = voc.FILE_TYPE_EU.get(link.type.split(";")[0])
        fmt = _FORMAT_NAMES.get(code, code) if code else None
        if fmt in formats:
            fmt = None
        formats.add(fmt)
        title = link.title or link.rel
        dist[f"{link.rel}_{i}"] = {
            "url": _href(link, base_url),
            "type": protocol,
            "rel": link.rel,
            "name": {"gre": title, "eng": title},
            "description": {"gre": link.type, "eng": link.type},
            "function": function,
            "format": fmt,
        }
    return dist


def _lineage(entry: Entry) -> Bilingual:
    """Where a catalogued resource comes from: we describe it, someone (maybe us) serves it."""
    source = entry.attribution or next(
        (urlsplit(lk.href).netloc for lk in entry.links if lk.href.startswith("http")), None
    )
    return {
        "el": "Καταχωρίστηκε στον κατάλογο του Δήμου Θεσσαλονίκης"
        + (f"· διατίθεται από: {source}" if source else "")
        + ".",
        "en": "Catalogued by the Municipality of Thessaloniki"
        + (f"; available from {source}" if source else "")
        + ".",
    }


def to_mcf(entry: Entry, base_url: str) -> dict:
    """pygeometa's Metadata Control File for an entry: Greek default, English alternate.

    Multilingual values are dicts keyed by the ISO 639-2 codes of `metadata.language` ("gre")
    and `metadata.language_alternate` ("eng"), which is how pygeometa's ISO templates pick the
    PT_FreeText text. The bbox is CRS84 (crs 4326); the source CRS is under `spatial.crs`."""
    el, en = voc.LANGUAGE_ISO639_2[DEFAULT_LANGUAGE], voc.LANGUAGE_ISO639_2[ALTERNATE_LANGUAGE]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    stamp = entry.updated or entry.created or now
    theme = voc.INSPIRE.get(entry.inspire_theme or "")
    dates = {k: v for k, v in (("creation", entry.created), ("revision", entry.updated)) if v}
    if not dates:
        dates = {"publication": stamp}
    temporal = []
    if entry.temporal and any(entry.temporal):
        start, end = (list(entry.temporal) + [None, None])[:2]
        temporal.append({"begin": start or "", "end": end or "now"})
    licence_url = entry.licence_url or voc.licence_uri(entry.licence)
    source = f"© {entry.attribution}. " if entry.attribution else ""
    rights = {"el": f"{source}Άδεια: {entry.licence}", "en": f"{source}Licence: {entry.licence}"}
    lineage = (
        _lineage(entry)
        if not _is_layer(entry)
        else {
            "el": "Δημοσιεύεται από τον Δήμο Θεσσαλονίκης μέσω OGC API Features"
            + (f"· πηγή: {entry.attribution}" if entry.attribution else "")
            + (f"· αρχικό σύστημα αναφοράς {entry.source_crs}" if entry.source_crs else "")
            + ".",
            "en": "Published by the Municipality of Thessaloniki through OGC API Features"
            + (f"; source: {entry.attribution}" if entry.attribution else "")
            + (f"; source reference system {entry.source_crs}" if entry.source_crs else "")
            + ".",
        }
    )
    return {
        "mcf": {"version": 1.0},
        "metadata": {
            "identifier": entry.id,
            "language": el,
            "language_alternate": en,
            "charset": "utf8",
            "hierarchylevel": _SCOPE.get(entry.kind, "dataset"),
            "dates": {"creation": stamp},
            "dataseturi": _resource_uri(entry, base_url),
        },
        "spatial": {
            "datatype": "vector" if entry.geometry_type else "textTable",
            "geomtype": _GEOMETRY_OBJECTS.get((entry.geometry_type or "").lower(), "complex"),
            "crs": _epsg(entry.source_crs),
        },
        "identification": {
            "language": el,
            "charset": "utf8",
            "title": _i18n(entry.title),
            "abstract": _i18n(entry.description),
            "dates": dates,
            "keywords": _mcf_keywords(entry),
            "topiccategory": [theme.topic] if theme else [],
            "extents": {
                "spatial": [{"bbox": list(entry.bbox) if entry.bbox else None, "crs": 4326}],
                "temporal": temporal,
            },
            "rights": _i18n(rights),
            "license": {"name": entry.licence, "url": licence_url or ""},
            "accessconstraints": "otherRestrictions",
            "url": _resource_uri(entry, base_url),
            "status": "onGoing",
            "maintenancefrequency": entry.update_frequency,
        },
        "contact": {"publisher": _mcf_contact(entry), "pointOfContact": _mcf_contact(entry)},
        "distribution": _mcf_distribution(entry, base_url),
        "dataquality": {
            "scope": {"level": _SCOPE.get(entry.kind, "dataset")},
            "lineage": {"statement": _i18n(lineage)},
        },
    }


def _q(tag: str) -> str:
    prefix, local = tag.split(":")
    return f"{{{NS[prefix]}}}{local}"


def _ci_date(parent: etree._Element, date: str, kind: str) -> None:
    """Replace a CI_Date's nil date and type by a real date and CI_DateTypeCode."""
    ci = parent.find(".//gmd:CI_Date", NS)
    if ci is None:
        return
    for child in list(ci):
        ci.remove(child)
    d = etree.SubElement(etree.SubElement(ci, _q("gmd:date")), _q("gco:Date"))
    d.text = date
    code = etree.SubElement(etree.SubElement(ci, _q("gmd:dateType")), _q("gmd:CI_DateTypeCode"))
    code.set("codeList", _CODELISTS + "#CI_DateTypeCode")
    code.set("codeListValue", kind)
    code.set("codeSpace", "ISOTC211/19115")
    code.text = kind


def _prune_empty(root: etree._Element) -> None:
    """Drop what pygeometa writes for values an entry lacks (empty strings, "None"), with the
    optional parents left empty by that; required elements get gco:nilReason="missing"."""
    required = {_q("gmd:voice"), _q("gmd:electronicMailAddress")}
    for cs in root.iter(_q("gco:CharacterString")):
        if (cs.text or "").strip() in ("", "None"):
            prop = cs.getparent()
            prop.remove(cs)
            if len(prop) == 0 and prop.tag not in required:
                prop.getparent().remove(prop)
            else:
                prop.set(f"{{{GCO}}}nilReason", "missing")
    for url in list(root.iter(_q("gmd:URL"))):
        if (url.text or "").strip() in ("", "None"):
            res = url.getparent().getparent()  # gmd:linkage / gmd:CI_OnlineResource
            res.getparent().getparent().remove(res.getparent())  # the gmd:onlineResource
    for tag in ("gmd:CI_Address", "gmd:CI_Telephone"):
        for el in list(root.iter(_q(tag))):
            if all(child.get(f"{{{GCO}}}nilReason") for child in el):
                el.getparent().getparent().remove(el.getparent())
    for tag in ("gmd:geographicElement", "gmd:spatialRepresentationInfo"):
        for el in list(root.iter(_q(tag))):
            if len(el) == 0:
                el.getparent().remove(el)
    for ext in list(root.iter(_q("gmd:EX_Extent"))):
        if len(ext) == 0:
            ext.getparent().getparent().remove(ext.getparent())


def _fix_iso(xml: str, entry: Entry, mcf: dict) -> etree._Element:
    """Complete pygeometa's record where its MCF cannot say what INSPIRE asks for."""
    # Temporal extents: GML 3.2, the GML that gmd 2007 imports (pygeometa declares GML 3.1's).
    xml = xml.replace('xmlns:gml="http://www.opengis.net/gml"', f'xmlns:gml="{GML32}"', 1)
    root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(remove_blank_text=True))
    for el in root.iter():  # the template's indentation left inside elements it left empty
        if len(el) == 0 and el.text is not None and not el.text.strip():
            el.text = None
    alternate = mcf["metadata"]["language_alternate"]
    # The alternate-language locale: pygeometa names it "locale-fr" whatever the language, while
    # the texts point to "#<language_alternate>".
    for locale in root.iter(_q("gmd:PT_Locale")):
        locale.set("id", alternate)
    # Public access: none limited (INSPIRE's code list), beside the licence.
    for access in root.iter(_q("gmd:accessConstraints")):
        other = etree.Element(_q("gmd:otherConstraints"))
        a = etree.SubElement(other, _q("gmx:Anchor"), nsmap={"gmx": GMX, "xlink": XLINK})
        a.set(f"{{{XLINK}}}href", NO_LIMITATIONS)
        a.text = "Χωρίς περιορισμούς στη δημόσια πρόσβαση (No limitations to public access)"
        access.addnext(other)
    # A period with no known start.
    for begin in root.iter(f"{{{GML32}}}beginPosition"):
        if not (begin.text or "").strip():
            begin.set("indeterminatePosition", "unknown")
    # Metadata contact: INSPIRE wants the role pointOfContact.
    for role in root.findall("gmd:contact//gmd:CI_RoleCode", NS):
        role.set("codeListValue", "pointOfContact")
        role.text = "pointOfContact"
    # The INSPIRE theme keyword: an Anchor to the theme URI, citing the GEMET thesaurus's date.
    if entry.inspire_theme in voc.INSPIRE:
        for kws in root.iter(_q("gmd:MD_Keywords")):
            anchor = kws.find("gmd:thesaurusName//gmx:Anchor", NS)
            if anchor is None or anchor.get(f"{{{XLINK}}}href") != voc.INSPIRE_THESAURUS_URL:
                continue
            for kw in kws.findall("gmd:keyword/gco:CharacterString", NS):
                a = etree.Element(_q("gmx:Anchor"), nsmap={"gmx": GMX, "xlink": XLINK})
                a.set(f"{{{XLINK}}}href", voc.inspire_theme_uri(entry.inspire_theme))
                a.text, a.tail = kw.text, kw.tail
                kw.getparent().replace(kw, a)
            _ci_date(kws.find("gmd:thesaurusName", NS), voc.INSPIRE_THESAURUS_DATE, "publication")
    # The reference system: the source data's CRS (pygeometa names the bbox's one).
    epsg = _epsg(entry.source_crs)
    for code in root.findall("gmd:referenceSystemInfo//gmd:code/gco:CharacterString", NS):
        if epsg:
            a = etree.Element(_q("gmx:Anchor"), nsmap={"gmx": GMX, "xlink": XLINK})
            a.set(f"{{{XLINK}}}href", f"http://www.opengis.net/def/crs/EPSG/0/{epsg}")
            a.text = f"EPSG:{epsg}"
            code.getparent().replace(code, a)
        else:
            code.text = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    _prune_empty(root)
    return root


@functools.cache
def _iso_template() -> jinja2.Template:
    """pygeometa's ISO 19139 template, compiled once per process.

    ISO19139OutputSchema().write() goes through pygeometa.core.render_j2_template, which
    builds a new Jinja environment and recompiles every template on each call (~0.2 s a
    record, nearly all of an export's time). This is the same environment, with the same
    filters and globals, kept; its minidom pretty-printing is left out (_fix_iso re-parses
    and pretty-prints anyway)."""
    helpers = {
        name: getattr(pygeometa_core, name)
        for name in (
            "normalize_datestring",
            "get_distribution_language",
            "get_charstring",
            "prune_distribution_formats",
            "prune_transfer_option",
        )
    }
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(
            [ISO19139OutputSchema().template_dir, str(pygeometa_core.SCHEMAS)]
        ),
        auto_reload=False,  # installed templates do not change under a running process
    )
    env.filters.update(helpers)
    env.globals.update(helpers, zip=zip)
    return env.get_template("main.j2")


def iso19139(entry: Entry, base_url: str) -> str:
    """ISO 19139 (gmd:MD_Metadata) XML of an entry, INSPIRE-shaped, Greek with English."""
    mcf = to_mcf(entry, base_url)
    # pygeometa's template reads a few optional keys without .get(): give them defaults.
    for part, key, default in (  # (this MCF is ours alone: no copy needed)
        ("metadata", "parentidentifier", None),
        ("identification", "edition", None),
        ("identification", "browsegraphic", None),
        ("spatial", "resolutions", []),
        ("spatial", "denominators", []),
    ):
        mcf[part].setdefault(key, default)
    mcf.setdefault("content_info", None)
    xml = _iso_template().render(record=mcf, pygeometa_version=pygeometa_core.VERSION)
    root = _fix_iso(xml, entry, mcf)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode()


# ----------------------------------------------------------------------------- DCAT-AP


def _literals(g: Graph, s: URIRef | BNode, p: URIRef, texts: Bilingual | None) -> None:
    for lang in (DEFAULT_LANGUAGE, ALTERNATE_LANGUAGE):
        text = _text(texts, lang)
        if text:
            g.add((s, p, Literal(text, lang=lang)))


def _concept(g: Graph, uri: str, cls: URIRef | None = None, labels: Bilingual | None = None):
    ref = URIRef(uri)
    g.add((ref, RDF.type, cls or SKOS.Concept))
    if labels:
        _literals(g, ref, SKOS.prefLabel, labels)
    return ref


def _publisher(g: Graph) -> URIRef:
    agent = URIRef(PUBLISHER_URI)
    g.add((agent, RDF.type, FOAF.Agent))
    g.add((agent, RDF.type, FOAF.Organization))
    _literals(g, agent, FOAF.name, PUBLISHER_NAME)
    kind = _concept(
        g,
        voc.PUBLISHER_TYPE + "LocalAuthority",
        labels={"el": "Τοπική αρχή", "en": "Local authority"},
    )
    g.add((agent, DCTERMS.type, kind))
    return agent


def _languages(g: Graph, s: URIRef, langs: list[str]) -> None:
    for lang in langs:
        uri = voc.language_uri(lang)
        if uri:
            g.add((s, DCTERMS.language, _concept(g, uri, DCTERMS.LinguisticSystem)))


def _datetime(value: str) -> Literal:
    return Literal(value, datatype=XSD.dateTime if "T" in value else XSD.date)


def _licence(g: Graph, entry: Entry) -> URIRef | None:
    uri = voc.licence_uri(entry.licence) or entry.licence_url
    if not uri:
        return None
    ref = URIRef(uri)
    g.add((ref, RDF.type, DCTERMS.LicenseDocument))
    if not uri.startswith(voc.EU_LICENCE):
        g.add((ref, DCTERMS.title, Literal(entry.licence)))
    return ref


def _contact_point(g: Graph, entry: Entry) -> BNode | None:
    c = entry.contact
    if not c:
        return None
    kind = BNode()
    g.add((kind, RDF.type, VCARD.Kind))
    g.add((kind, RDF.type, VCARD.Organization))
    names = {
        lang: _text(c.get("department"), lang) or c.get("name") or PUBLISHER_NAME[lang]
        for lang in (DEFAULT_LANGUAGE, ALTERNATE_LANGUAGE)
    }
    _literals(g, kind, VCARD.fn, names)
    if c.get("email"):
        g.add((kind, VCARD.hasEmail, URIRef(f"mailto:{c['email']}")))
    if c.get("phone"):
        g.add((kind, VCARD.hasTelephone, URIRef("tel:" + str(c["phone"]).replace(" ", ""))))
    if c.get("url"):
        g.add((kind, VCARD.hasURL, URIRef(c["url"])))
    return kind


def _distribution(
    g: Graph,
    entry: Entry,
    link: Link,
    base_url: str,
    licence: URIRef | None,
    download: bool,
    titles: Bilingual | None = None,
) -> BNode:
    dist = BNode()
    url = URIRef(_href(link, base_url))
    g.add((dist, RDF.type, DCAT.Distribution))
    g.add((dist, DCAT.accessURL, url))
    if download:
        g.add((dist, DCAT.downloadURL, url))
    if titles is None:  # a layer's own two distributions
        titles = (
            {"el": "Λήψη (GeoJSON)", "en": "Download (GeoJSON)"}
            if download
            else {"el": "Στοιχεία μέσω OGC API Features", "en": "Features through OGC API Features"}
        )
    _literals(g, dist, DCTERMS.title, titles)
    fmt = voc.file_type_uri(link.type)
    if fmt:
        g.add((dist, DCTERMS["format"], _concept(g, fmt, DCTERMS.MediaTypeOrExtent)))
    media = URIRef(voc.media_type_uri(link.type))
    g.add((media, RDF.type, DCTERMS.MediaType))
    g.add((dist, DCAT.mediaType, media))
    if licence is not None:
        g.add((dist, DCTERMS.license, licence))
    if entry.updated:
        g.add((dist, DCTERMS.modified, _datetime(entry.updated)))
    return dist


def _describe(g: Graph, node: URIRef, entry: Entry, publisher: URIRef) -> None:
    """What a dataset and a data service say alike: texts, dates, themes, extents, contact."""
    g.add((node, DCTERMS.identifier, Literal(entry.id)))
    _literals(g, node, DCTERMS.title, entry.title)
    _literals(g, node, DCTERMS.description, entry.description)
    for lang, words in entry.keywords.items():
        for word in words:
            g.add((node, DCAT.keyword, Literal(word, lang=lang)))
    g.add((node, DCTERMS.publisher, publisher))
    _languages(g, node, entry.languages)
    if entry.created:
        g.add((node, DCTERMS.issued, _datetime(entry.created)))
    if entry.updated:
        g.add((node, DCTERMS.modified, _datetime(entry.updated)))
    theme = voc.INSPIRE.get(entry.inspire_theme or "")
    if theme:
        for code in theme.data_themes:
            labels = dict(zip(("el", "en"), voc.DATA_THEMES[code], strict=True))
            g.add((node, DCAT.theme, _concept(g, voc.data_theme_uri(code), labels=labels)))
        inspire = _concept(
            g, voc.inspire_theme_uri(entry.inspire_theme), labels={"el": theme.el, "en": theme.en}
        )
        g.add((inspire, SKOS.inScheme, URIRef(voc.INSPIRE_THEMES)))
        g.add((node, DCAT.theme, inspire))
    if entry.bbox:
        minx, miny, maxx, maxy = entry.bbox[:4]
        place = BNode()
        g.add((place, RDF.type, DCTERMS.Location))
        wkt = (
            f"POLYGON(({minx} {miny}, {maxx} {miny}, {maxx} {maxy}, {minx} {maxy}, {minx} {miny}))"
        )
        g.add((place, DCAT.bbox, Literal(wkt, datatype=GSP.wktLiteral)))
        g.add((node, DCTERMS.spatial, place))
    if entry.temporal and any(entry.temporal):
        start, end = (list(entry.temporal) + [None, None])[:2]
        period = BNode()
        g.add((period, RDF.type, DCTERMS.PeriodOfTime))
        if start:
            g.add((period, DCAT.startDate, _datetime(start)))
        if end:
            g.add((period, DCAT.endDate, _datetime(end)))
        g.add((node, DCTERMS.temporal, period))
    contact = _contact_point(g, entry)
    if contact is not None:
        g.add((node, DCAT.contactPoint, contact))


def _dataset(g: Graph, entry: Entry, base_url: str, publisher: URIRef, service: URIRef) -> URIRef:
    """A layer (served by our API) or a dataset or document held elsewhere."""
    ds = URIRef(_resource_uri(entry, base_url) + "#dataset")
    g.add((ds, RDF.type, DCAT.Dataset))
    _describe(g, ds, entry, publisher)
    g.add(
        (
            ds,
            DCTERMS.accrualPeriodicity,
            _concept(g, voc.frequency_uri(entry.update_frequency), DCTERMS.Frequency),
        )
    )
    licence = _licence(g, entry)
    if not _is_layer(entry):
        _resource_distributions(g, ds, entry, base_url, licence)
        return ds
    items, download = _link(entry, "items"), _link(entry, "enclosure")
    if items:
        dist = _distribution(g, entry, items, base_url, licence, download=False)
        g.add((dist, DCAT.accessService, service))
        g.add((service, DCAT.servesDataset, ds))
        g.add((ds, DCAT.distribution, dist))
    if download:
        g.add((ds, DCAT.distribution, _distribution(g, entry, download, base_url, licence, True)))
    coll = _link(entry, "collection")
    if coll:
        g.add((ds, DCAT.landingPage, _landing_page(g, _href(coll, base_url))))
    return ds


def _resource_distributions(
    g: Graph, ds: URIRef, entry: Entry, base_url: str, licence: URIRef | None
) -> None:
    """A resource's links: its web page is the landing page, every other link (a file to
    download, an API) a distribution."""
    page = _landing_page_link(entry)
    if page is not None:
        g.add((ds, DCAT.landingPage, _landing_page(g, _href(page, base_url))))
    for link in entry.links:
        if link is page:
            continue
        title = link.title or link.type
        dist = _distribution(
            g, entry, link, base_url, licence, link.rel == "enclosure", {"el": title, "en": title}
        )
        g.add((ds, DCAT.distribution, dist))


def _data_service(g: Graph, entry: Entry, base_url: str, publisher: URIRef) -> URIRef:
    """A web service we catalogue (e.g. another body's WMS): a dcat:DataService."""
    svc = URIRef(_resource_uri(entry, base_url) + "#service")
    g.add((svc, RDF.type, DCAT.DataService))
    _describe(g, svc, entry, publisher)
    page = _landing_page_link(entry)
    endpoint = next((lk for lk in entry.links if lk.protocol), None) or next(
        (lk for lk in entry.links if lk is not page), page
    )
    if endpoint is not None:
        url = _href(endpoint, base_url)
        # the endpoint is the service's root; a capabilities request describes it
        g.add((svc, DCAT.endpointURL, URIRef(url.split("?", 1)[0])))
        if "?" in url or endpoint.rel == "service-desc":
            g.add((svc, DCAT.endpointDescription, URIRef(url)))
        standard = SERVICE_STANDARDS.get(endpoint.protocol or "")
        if standard:
            g.add((URIRef(standard), RDF.type, DCTERMS.Standard))
            g.add((svc, DCTERMS.conformsTo, URIRef(standard)))
    if page is not None:
        g.add((svc, DCAT.landingPage, _landing_page(g, _href(page, base_url))))
    licence = _licence(g, entry)
    if licence is not None:
        g.add((svc, DCTERMS.license, licence))
    return svc


def _landing_page(g: Graph, url: str) -> URIRef:
    page = URIRef(url)
    g.add((page, RDF.type, FOAF.Document))
    return page


def dcat_graph(entries: list[Entry], base_url: str) -> Graph:
    """A DCAT-AP 3 catalogue of the entries: one dcat:Dataset each, served by one DataService."""
    base = _base(base_url)
    g = Graph(bind_namespaces="core")
    g.bind("dcat", DCAT)
    g.bind("dct", DCTERMS)
    g.bind("foaf", FOAF)
    g.bind("vcard", VCARD)
    g.bind("skos", SKOS)
    g.bind("adms", ADMS)
    g.bind("locn", LOCN)
    g.bind("gsp", GSP)
    catalog = URIRef(base + "/#catalogue")
    g.add((catalog, RDF.type, DCAT.Catalog))
    _literals(g, catalog, DCTERMS.title, CATALOGUE_TITLE)
    _literals(g, catalog, DCTERMS.description, CATALOGUE_DESCRIPTION)
    publisher = _publisher(g)
    g.add((catalog, DCTERMS.publisher, publisher))
    g.add((catalog, FOAF.homepage, _landing_page(g, base + "/")))
    _languages(g, catalog, [DEFAULT_LANGUAGE, ALTERNATE_LANGUAGE])
    for scheme, title in (
        (voc.EU_DATA_THEME, "Data theme"),
        (voc.INSPIRE_THEMES, voc.INSPIRE_THESAURUS_TITLE),
    ):
        ref = URIRef(scheme)
        g.add((ref, RDF.type, SKOS.ConceptScheme))
        g.add((ref, DCTERMS.title, Literal(title, lang="en")))
        g.add((catalog, DCAT.themeTaxonomy, ref))
    modified = [e.updated for e in entries if e.updated]
    if modified:
        g.add((catalog, DCTERMS.modified, _datetime(max(modified))))

    service = URIRef(base + "/#api")
    g.add((service, RDF.type, DCAT.DataService))
    _literals(g, service, DCTERMS.title, API_TITLE)
    g.add((service, DCAT.endpointURL, URIRef(base + "/")))
    g.add((service, DCAT.endpointDescription, URIRef(base + "/openapi")))
    standard = URIRef(OGC_API_FEATURES)
    g.add((standard, RDF.type, DCTERMS.Standard))
    g.add((service, DCTERMS.conformsTo, standard))
    g.add((service, DCTERMS.publisher, publisher))
    g.add((catalog, DCAT.service, service))

    for entry in entries:
        if entry.kind == "service":
            g.add((catalog, DCAT.service, _data_service(g, entry, base_url, publisher)))
        else:
            g.add((catalog, DCAT.dataset, _dataset(g, entry, base_url, publisher, service)))
    if not any(True for _ in g.objects(service, DCAT.servesDataset)):
        g.remove((catalog, DCAT.service, service))
        g.remove((service, None, None))
    return g


def dcat_turtle(entries: list[Entry], base_url: str) -> str:
    return dcat_graph(entries, base_url).serialize(format="turtle")


def dcat_jsonld(entries: list[Entry], base_url: str) -> str:
    g = dcat_graph(entries, base_url)
    context = {prefix: str(ns) for prefix, ns in g.namespaces() if prefix}
    return g.serialize(format="json-ld", context=context, indent=2)
