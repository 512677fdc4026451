"""DCAT-AP 3 RDF of catalogue entries (an rdflib graph, Turtle or JSON-LD), for national and
European portals to harvest: EU vocabulary URIs for licence, format, language, theme and
frequency, and literals tagged @el and @en.

`base_url` is the server's public root: entries' relative link hrefs are resolved against it
and the catalogue is named by it. The publisher and the catalogue's texts are the deployment's
identity (config/server.yml, geoservice.server.identity).
"""

from __future__ import annotations

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SKOS, XSD

from geoservice.server import identity as city
from geoservice.server.identity import Identity
from geoservice.server.records.export_common import (
    ALTERNATE_LANGUAGE,
    DEFAULT_LANGUAGE,
    absolute_url,
    find_link,
    is_layer,
    resource_uri,
    root_url,
    text_in,
)
from geoservice.store import vocabularies as voc
from geoservice.store.records import Bilingual, Entry, Link

API_TITLE: Bilingual = {
    "el": "Υπηρεσία χωρικών δεδομένων (OGC API Features)",
    "en": "Spatial data service (OGC API Features)",
}
OGC_API_FEATURES = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"

ADMS = Namespace("http://www.w3.org/ns/adms#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")

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


def _literals(g: Graph, s: URIRef | BNode, p: URIRef, texts: Bilingual | None) -> None:
    for lang in (DEFAULT_LANGUAGE, ALTERNATE_LANGUAGE):
        text = text_in(texts, lang)
        if text:
            g.add((s, p, Literal(text, lang=lang)))


def _concept(g: Graph, uri: str, cls: URIRef | None = None, labels: Bilingual | None = None):
    ref = URIRef(uri)
    g.add((ref, RDF.type, cls or SKOS.Concept))
    if labels:
        _literals(g, ref, SKOS.prefLabel, labels)
    return ref


def _publisher(g: Graph, who: Identity) -> URIRef:
    agent = URIRef(who.publisher.url)
    g.add((agent, RDF.type, FOAF.Agent))
    g.add((agent, RDF.type, FOAF.Organization))
    _literals(g, agent, FOAF.name, who.publisher.name)
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
    """The entry's licence document; None (no dct:license, which DCAT-AP does not require)
    when no licence is stated: one is never assumed."""
    uri = voc.licence_uri(entry.licence) or entry.licence_url
    if not uri:
        return None
    ref = URIRef(uri)
    g.add((ref, RDF.type, DCTERMS.LicenseDocument))
    if entry.licence and not uri.startswith(voc.EU_LICENCE):
        g.add((ref, DCTERMS.title, Literal(entry.licence)))
    return ref


def _contact_point(g: Graph, entry: Entry, who: Identity) -> BNode | None:
    c = entry.contact
    if not c:
        return None
    kind = BNode()
    g.add((kind, RDF.type, VCARD.Kind))
    g.add((kind, RDF.type, VCARD.Organization))
    names = {
        lang: text_in(c.get("department"), lang) or c.get("name") or who.publisher.name[lang]
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
    url = URIRef(absolute_url(link, base_url))
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


def _describe(g: Graph, node: URIRef, entry: Entry, publisher: URIRef, who: Identity) -> None:
    """What a dataset and a data service say alike: texts, dates, themes, extents, contact."""
    g.add((node, DCTERMS.identifier, Literal(entry.id)))
    _literals(g, node, DCTERMS.title, entry.title)
    _literals(g, node, DCTERMS.description, entry.description)
    for lang, words in entry.keywords.items():
        for word in words:
            g.add((node, DCAT.keyword, Literal(word, lang=lang)))
    g.add((node, DCTERMS.publisher, publisher))
    g.add(
        (
            node,
            DCTERMS.accessRights,
            _concept(g, voc.access_right_uri(entry.access), DCTERMS.RightsStatement),
        )
    )
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
    contact = _contact_point(g, entry, who)
    if contact is not None:
        g.add((node, DCAT.contactPoint, contact))


def _dataset(
    g: Graph, entry: Entry, base_url: str, publisher: URIRef, service: URIRef, who: Identity
) -> URIRef:
    """A layer (served by our API) or a dataset or document held elsewhere."""
    ds = URIRef(resource_uri(entry, base_url) + "#dataset")
    g.add((ds, RDF.type, DCAT.Dataset))
    _describe(g, ds, entry, publisher, who)
    g.add(
        (
            ds,
            DCTERMS.accrualPeriodicity,
            _concept(g, voc.frequency_uri(entry.update_frequency), DCTERMS.Frequency),
        )
    )
    licence = _licence(g, entry)
    if not is_layer(entry):
        _resource_distributions(g, ds, entry, base_url, licence)
        return ds
    items, download = find_link(entry, "items"), find_link(entry, "enclosure")
    if items:
        dist = _distribution(g, entry, items, base_url, licence, download=False)
        g.add((dist, DCAT.accessService, service))
        g.add((service, DCAT.servesDataset, ds))
        g.add((ds, DCAT.distribution, dist))
    if download:
        g.add((ds, DCAT.distribution, _distribution(g, entry, download, base_url, licence, True)))
    coll = find_link(entry, "collection")
    if coll:
        g.add((ds, DCAT.landingPage, _landing_page(g, absolute_url(coll, base_url))))
    return ds


def _resource_distributions(
    g: Graph, ds: URIRef, entry: Entry, base_url: str, licence: URIRef | None
) -> None:
    """A resource's links: its web page is the landing page, every other link (a file to
    download, an API) a distribution."""
    page = _landing_page_link(entry)
    if page is not None:
        g.add((ds, DCAT.landingPage, _landing_page(g, absolute_url(page, base_url))))
    for link in entry.links:
        if link is page:
            continue
        title = link.title or link.type
        dist = _distribution(
            g, entry, link, base_url, licence, link.rel == "enclosure", {"el": title, "en": title}
        )
        g.add((ds, DCAT.distribution, dist))


def _data_service(
    g: Graph, entry: Entry, base_url: str, publisher: URIRef, who: Identity
) -> URIRef:
    """A web service we catalogue (e.g. another body's WMS): a dcat:DataService."""
    svc = URIRef(resource_uri(entry, base_url) + "#service")
    g.add((svc, RDF.type, DCAT.DataService))
    _describe(g, svc, entry, publisher, who)
    page = _landing_page_link(entry)
    endpoint = next((lk for lk in entry.links if lk.protocol), None) or next(
        (lk for lk in entry.links if lk is not page), page
    )
    if endpoint is not None:
        url = absolute_url(endpoint, base_url)
        # the endpoint is the service's root; a capabilities request describes it
        g.add((svc, DCAT.endpointURL, URIRef(url.split("?", 1)[0])))
        if "?" in url or endpoint.rel == "service-desc":
            g.add((svc, DCAT.endpointDescription, URIRef(url)))
        standard = SERVICE_STANDARDS.get(endpoint.protocol or "")
        if standard:
            g.add((URIRef(standard), RDF.type, DCTERMS.Standard))
            g.add((svc, DCTERMS.conformsTo, URIRef(standard)))
    if page is not None:
        g.add((svc, DCAT.landingPage, _landing_page(g, absolute_url(page, base_url))))
    licence = _licence(g, entry)
    if licence is not None:
        g.add((svc, DCTERMS.license, licence))
    return svc


def _landing_page(g: Graph, url: str) -> URIRef:
    page = URIRef(url)
    g.add((page, RDF.type, FOAF.Document))
    return page


def dcat_graph(entries: list[Entry], base_url: str, identity: Identity | None = None) -> Graph:
    """A DCAT-AP 3 catalogue of the entries: one dcat:Dataset each, served by one DataService.
    `identity`: the publisher's (default: config/server.yml's)."""
    who = identity or city.default()
    base = root_url(base_url)
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
    _literals(g, catalog, DCTERMS.title, who.catalogue.title)
    _literals(g, catalog, DCTERMS.description, who.catalogue.description)
    publisher = _publisher(g, who)
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
    # No catalogue-wide dct:modified: the entries' dates are their data's last changes, not
    # when the catalogue changed (a layer of 2011 loaded today changes it today).

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
            g.add((catalog, DCAT.service, _data_service(g, entry, base_url, publisher, who)))
        else:
            g.add((catalog, DCAT.dataset, _dataset(g, entry, base_url, publisher, service, who)))
    if not any(True for _ in g.objects(service, DCAT.servesDataset)):
        g.remove((catalog, DCAT.service, service))
        g.remove((service, None, None))
    return g


def dcat_turtle(entries: list[Entry], base_url: str, identity: Identity | None = None) -> str:
    return dcat_graph(entries, base_url, identity).serialize(format="turtle")


def dcat_jsonld(entries: list[Entry], base_url: str, identity: Identity | None = None) -> str:
    g = dcat_graph(entries, base_url, identity)
    context = {prefix: str(ns) for prefix, ns in g.namespaces() if prefix}
    return g.serialize(format="json-ld", context=context, indent=2)
