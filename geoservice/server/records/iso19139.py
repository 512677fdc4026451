"""ISO 19139 / INSPIRE metadata XML (gmd:MD_Metadata) of catalogue entries, for national and
European portals to harvest: written by pygeometa from its MCF, Greek with English as the
PT_FreeText alternate language, then completed where the MCF cannot say what INSPIRE asks.

Who publishes (the contact's organisation, web site and e-mail, the lineage statements) is the
deployment's identity (config/server.yml, geoservice.server.identity).
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

from geoservice.server import identity as city
from geoservice.server.identity import Identity
from geoservice.server.records.export_common import (
    ALTERNATE_LANGUAGE,
    DEFAULT_LANGUAGE,
    absolute_url,
    is_layer,
    resource_uri,
    text_in,
)
from geoservice.store import vocabularies as voc
from geoservice.store.records import Bilingual, Entry

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
_FORMAT_NAMES = {"GEOJSON": "GeoJSON", "GPKG": "GeoPackage", "SHP": "ESRI Shapefile"}
_SCOPE = {
    "dataset": "dataset",
    "externalDataset": "dataset",
    "document": "nonGeographicDataset",
    "service": "service",
}


def _epsg(crs: str | None) -> int | None:
    if crs and crs.upper().startswith("EPSG:") and crs[5:].isdigit():
        return int(crs[5:])
    return None


# A licence nobody stated is said so, never assumed (the portal's words).
NOT_STATED: Bilingual = {"el": "δεν αναφέρεται", "en": "not stated"}


def _i18n(texts: Bilingual | None) -> dict[str, str] | None:
    """Bilingual text as MCF's multilingual dict, keyed by the ISO 639-2 codes the record uses."""
    if not texts:
        return None
    return {
        voc.LANGUAGE_ISO639_2[lang]: text_in(texts, lang) or ""
        for lang in (DEFAULT_LANGUAGE, ALTERNATE_LANGUAGE)
    }


def _mcf_contact(entry: Entry, who: Identity) -> dict[str, Any]:
    """The entry's contact, within the publisher; the publisher stands in for what it lacks
    (INSPIRE wants a metadata contact's e-mail)."""
    c = entry.contact or {}
    department = c.get("department") or {}
    organisation = {
        lang: ", ".join(t for t in (who.publisher.name[lang], text_in(department, lang)) if t)
        for lang in (DEFAULT_LANGUAGE, ALTERNATE_LANGUAGE)
    }
    contact: dict[str, Any] = {
        "organization": _i18n(organisation),
        "url": c.get("url") or who.publisher.url,
        "email": c.get("email") or who.publisher.email,
    }
    if c.get("phone"):
        contact["phone"] = c["phone"]
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
            "url": absolute_url(link, base_url),
            "type": protocol,
            "rel": link.rel,
            "name": {"gre": title, "eng": title},
            "description": {"gre": link.type, "eng": link.type},
            "function": function,
            "format": fmt,
        }
    return dist


def _lineage(entry: Entry, who: Identity) -> Bilingual:
    """Where a catalogued resource comes from: we describe it, someone (maybe us) serves it."""
    source = entry.attribution or next(
        (urlsplit(lk.href).netloc for lk in entry.links if lk.href.startswith("http")), None
    )
    return {
        "el": who.lineage.catalogued["el"]
        + (f"· διατίθεται από: {source}" if source else "")
        + ".",
        "en": who.lineage.catalogued["en"] + (f"; available from {source}" if source else "") + ".",
    }


def to_mcf(entry: Entry, base_url: str, identity: Identity | None = None) -> dict:
    """pygeometa's Metadata Control File for an entry: Greek default, English alternate.

    Multilingual values are dicts keyed by the ISO 639-2 codes of `metadata.language` ("gre")
    and `metadata.language_alternate` ("eng"), which is how pygeometa's ISO templates pick the
    PT_FreeText text. The bbox is CRS84 (crs 4326); the source CRS is under `spatial.crs`.
    `identity`: the publisher's (default: config/server.yml's)."""
    who = identity or city.default()
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
    licence = {"el": entry.licence, "en": entry.licence} if entry.licence else NOT_STATED
    rights = {"el": f"{source}Άδεια: {licence['el']}", "en": f"{source}Licence: {licence['en']}"}
    lineage = (
        _lineage(entry, who)
        if not is_layer(entry)
        else {
            "el": who.lineage.published["el"]
            + (f"· πηγή: {entry.attribution}" if entry.attribution else "")
            + (f"· αρχικό σύστημα αναφοράς {entry.source_crs}" if entry.source_crs else "")
            + ".",
            "en": who.lineage.published["en"]
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
            "dataseturi": resource_uri(entry, base_url),
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
            "license": {
                "name": entry.licence or f"{NOT_STATED['el']} ({NOT_STATED['en']})",
                "url": licence_url or "",
            },
            "accessconstraints": "otherRestrictions",
            "url": resource_uri(entry, base_url),
            "status": "onGoing",
            "maintenancefrequency": entry.update_frequency,
        },
        "contact": {
            "publisher": _mcf_contact(entry, who),
            "pointOfContact": _mcf_contact(entry, who),
        },
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
    builds a new Jinja environment and recompiles every template on each call, which costs
    more than the rest of an export. This is the same environment, with the same
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


def iso19139(entry: Entry, base_url: str, identity: Identity | None = None) -> str:
    """ISO 19139 (gmd:MD_Metadata) XML of an entry, INSPIRE-shaped, Greek with English.
    `identity`: the publisher's (default: config/server.yml's)."""
    mcf = to_mcf(entry, base_url, identity)
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
