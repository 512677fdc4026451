"""Controlled vocabularies the exports point to: EU authority tables (Publications Office),
the INSPIRE themes (GEMET) and IANA media types, as plain lookup tables.

Every value an export emits for licence, format, language, theme and frequency comes from here,
so a harvester (data.europa.eu, the national INSPIRE geoportal) recognises it.
"""

from __future__ import annotations

from typing import NamedTuple

EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
EU_DATA_THEME = EU_AUTHORITY + "data-theme"
EU_FILE_TYPE = EU_AUTHORITY + "file-type"
EU_FREQUENCY = EU_AUTHORITY + "frequency"
EU_LANGUAGE = EU_AUTHORITY + "language"
EU_LICENCE = EU_AUTHORITY + "licence"
INSPIRE_THEMES = "http://inspire.ec.europa.eu/theme"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
PUBLISHER_TYPE = "http://purl.org/adms/publishertype/"

# Our two-letter language codes -> EU language table (ISO 639-3 style) and ISO 639-2/B
# (what ISO 19139 / INSPIRE metadata use in gmd:LanguageCode).
LANGUAGE_EU = {"el": "ELL", "en": "ENG"}
LANGUAGE_ISO639_2 = {"el": "gre", "en": "eng"}

# SPDX-style licence ids (what descriptors use) -> EU licence authority table codes.
# Ids not listed keep their licence URL, exported as a dct:LicenseDocument of its own.
LICENCE_EU = {
    "CC-BY-4.0": "CC_BY_4_0",
    "CC-BY-3.0": "CC_BY_3_0",
    "CC-BY-SA-4.0": "CC_BYSA_4_0",
    "CC-BY-SA-3.0": "CC_BYSA_3_0",
    "CC-BY-ND-4.0": "CC_BYND_4_0",
    "CC-BY-NC-4.0": "CC_BYNC_4_0",
    "CC-BY-NC-SA-4.0": "CC_BYNCSA_4_0",
    "CC-BY-NC-ND-4.0": "CC_BYNCND_4_0",
    "CC0-1.0": "CC0",
    "PDDL-1.0": "ODC_PDDL",
    "ODC-By-1.0": "ODC_BY",
    "ODbL-1.0": "ODC_BL",
    "OGL-UK-3.0": "OGL_3_0",
    "GPL-3.0": "GPL_3_0",
    "GPL-3.0-only": "GPL_3_0",
    "GPL-3.0-or-later": "GPL_3_0",
    "EUPL-1.2": "EUPL_1_2",
    "MIT": "MIT",
    "Apache-2.0": "APACHE_2_0",
}

# ISO 19115 MD_MaintenanceFrequencyCode -> EU frequency table (the GeoDCAT-AP alignment).
FREQUENCY_EU = {
    "continual": "CONT",
    "daily": "DAILY",
    "weekly": "WEEKLY",
    "fortnightly": "BIWEEKLY",
    "monthly": "MONTHLY",
    "quarterly": "QUARTERLY",
    "biannually": "ANNUAL_2",
    "annually": "ANNUAL",
    "asNeeded": "AS_NEEDED",
    "irregular": "IRREG",
    "notPlanned": "NOT_PLANNED",
    "unknown": "UNKNOWN",
}

# Media type -> EU file-type table code (distribution dct:format).
FILE_TYPE_EU = {
    "application/geo+json": "GEOJSON",
    "application/json": "JSON",
    "application/schema+json": "JSON",
    "text/csv": "CSV",
    "application/pdf": "PDF",
    "text/html": "HTML",
    "application/xml": "XML",
    "application/gml+xml": "GML",
    "application/vnd.google-earth.kml+xml": "KML",
    "application/geopackage+sqlite3": "GPKG",
    "application/x-shapefile": "SHP",
    "application/zip": "ZIP",
    "application/vnd.apache.parquet": "PARQUET",
}

# EU data themes: code -> labels (el, en).
DATA_THEMES = {
    "AGRI": ("Γεωργία, αλιεία, δασοκομία και τρόφιμα", "Agriculture, fisheries, forestry and food"),
    "ECON": ("Οικονομία και χρηματοοικονομικά", "Economy and finance"),
    "EDUC": ("Παιδεία, πολιτισμός και αθλητισμός", "Education, culture and sport"),
    "ENER": ("Ενέργεια", "Energy"),
    "ENVI": ("Περιβάλλον", "Environment"),
    "GOVE": ("Κυβέρνηση και δημόσιος τομέας", "Government and public sector"),
    "HEAL": ("Υγεία", "Health"),
    "INTR": ("Διεθνή θέματα", "International issues"),
    "JUST": (
        "Δικαιοσύνη, νομικό σύστημα και δημόσια ασφάλεια",
        "Justice, legal system and public safety",
    ),
    "REGI": ("Περιφέρειες και πόλεις", "Regions and cities"),
    "SOCI": ("Πληθυσμός και κοινωνία", "Population and society"),
    "TECH": ("Επιστήμη και τεχνολογία", "Science and technology"),
    "TRAN": ("Μεταφορές", "Transport"),
}


class InspireTheme(NamedTuple):
    el: str  # label in the GEMET INSPIRE themes thesaurus, Greek
    en: str  # ... and English
    topic: str  # ISO 19115 MD_TopicCategoryCode that fits it best
    data_themes: tuple[str, ...]  # EU data themes it maps to (DCAT dcat:theme)


# The 34 INSPIRE themes (Directive 2007/2/EC, annexes I-III). The EU data theme mapping is ours:
# boundaries and names of places are "Regions and cities" (administrative units also
# "Government"), networks and transport are TRAN, nature, water, soil, air and monitoring are
# ENVI, people and statistics SOCI, health HEAL, energy ENER, industry and minerals ECON,
# farming AGRI, reference grids and coordinate systems TECH.
INSPIRE = {
    "ac": InspireTheme(
        "Ατμοσφαιρικές συνθήκες",
        "Atmospheric conditions",
        "climatologyMeteorologyAtmosphere",
        ("ENVI",),
    ),
    "ad": InspireTheme("Διευθύνσεις", "Addresses", "location", ("REGI",)),
    "af": InspireTheme(
        "Γεωργικές εγκαταστάσεις και εγκαταστάσεις υδατοκαλλιέργειας",
        "Agricultural and aquaculture facilities",
        "farming",
        ("AGRI",),
    ),
    "am": InspireTheme(
        "Ζώνες διαχείρισης/περιορισμού/ρύθμισης εκτάσεων και μονάδες αναφοράς",
        "Area management/restriction/regulation zones and reporting units",
        "planningCadastre",
        ("ENVI", "REGI"),
    ),
    "au": InspireTheme(
        "Διοικητικές ενότητες", "Administrative units", "boundaries", ("REGI", "GOVE")
    ),
    "br": InspireTheme("Βιογεωγραφικές περιοχές", "Bio-geographical regions", "biota", ("ENVI",)),
    "bu": InspireTheme("Κτίρια", "Buildings", "structure", ("REGI",)),
    "cp": InspireTheme(
        "Γεωτεμάχια κτηματολογίου", "Cadastral parcels", "planningCadastre", ("REGI",)
    ),
    "ef": InspireTheme(
        "Εγκαταστάσεις παρακολούθησης του περιβάλλοντος",
        "Environmental monitoring facilities",
        "environment",
        ("ENVI",),
    ),
    "el": InspireTheme("Υψομετρία", "Elevation", "elevation", ("ENVI",)),
    "er": InspireTheme("Ενεργειακοί πόροι", "Energy resources", "economy", ("ENER",)),
    "ge": InspireTheme("Γεωλογία", "Geology", "geoscientificInformation", ("ENVI",)),
    "gg": InspireTheme(
        "Συστήματα γεωγραφικού καννάβου", "Geographical grid systems", "location", ("TECH",)
    ),
    "gn": InspireTheme("Τοπωνύμια", "Geographical names", "location", ("REGI",)),
    "hb": InspireTheme("Ενδιαιτήματα και βιότοποι", "Habitats and biotopes", "biota", ("ENVI",)),
    "hh": InspireTheme(
        "Ανθρώπινη υγεία και ασφάλεια", "Human health and safety", "health", ("HEAL",)
    ),
    "hy": InspireTheme("Υδρογραφία", "Hydrography", "inlandWaters", ("ENVI",)),
    "lc": InspireTheme("Κάλυψη γης", "Land cover", "imageryBaseMapsEarthCover", ("ENVI",)),
    "lu": InspireTheme("Χρήσεις γης", "Land use", "planningCadastre", ("REGI", "ENVI")),
    "mf": InspireTheme(
        "Μετεωρολογικά γεωγραφικά χαρακτηριστικά",
        "Meteorological geographical features",
        "climatologyMeteorologyAtmosphere",
        ("ENVI",),
    ),
    "mr": InspireTheme("Ορυκτοί πόροι", "Mineral resources", "economy", ("ECON", "ENVI")),
    "nz": InspireTheme(
        "Ζώνες φυσικών κινδύνων", "Natural risk zones", "geoscientificInformation", ("ENVI",)
    ),
    "of": InspireTheme(
        "Ωκεανογραφικά γεωγραφικά χαρακτηριστικά",
        "Oceanographic geographical features",
        "oceans",
        ("ENVI",),
    ),
    "oi": InspireTheme("Ορθοφωτογραφία", "Orthoimagery", "imageryBaseMapsEarthCover", ("REGI",)),
    "pd": InspireTheme(
        "Κατανομή πληθυσμού — δημογραφία",
        "Population distribution — demography",
        "society",
        ("SOCI",),
    ),
    "pf": InspireTheme(
        "Εγκαταστάσεις παραγωγής και βιομηχανικές εγκαταστάσεις",
        "Production and industrial facilities",
        "economy",
        ("ECON",),
    ),
    "ps": InspireTheme("Προστατευόμενες τοποθεσίες", "Protected sites", "environment", ("ENVI",)),
    "rs": InspireTheme(
        "Συστήματα συντεταγμένων", "Coordinate reference systems", "location", ("TECH",)
    ),
    "sd": InspireTheme("Κατανομή ειδών", "Species distribution", "biota", ("ENVI",)),
    "so": InspireTheme("Έδαφος", "Soil", "geoscientificInformation", ("ENVI",)),
    "sr": InspireTheme("Θαλάσσιες περιοχές", "Sea regions", "oceans", ("ENVI",)),
    "su": InspireTheme("Στατιστικές μονάδες", "Statistical units", "boundaries", ("REGI", "SOCI")),
    "tn": InspireTheme("Δίκτυα μεταφορών", "Transport networks", "transportation", ("TRAN",)),
    "us": InspireTheme(
        "Επιχειρήσεις κοινής ωφελείας και κρατικές υπηρεσίες",
        "Utility and governmental services",
        "utilitiesCommunication",
        ("GOVE",),
    ),
}

# The thesaurus the INSPIRE theme keyword cites (INSPIRE metadata technical guidelines 2.0).
INSPIRE_THESAURUS_TITLE = "GEMET - INSPIRE themes, version 1.0"
INSPIRE_THESAURUS_URL = "http://www.eionet.europa.eu/gemet/inspire_themes"
INSPIRE_THESAURUS_DATE = "2008-06-01"


def inspire_theme_uri(code: str) -> str:
    return f"{INSPIRE_THEMES}/{code}"


def data_theme_uri(code: str) -> str:
    return f"{EU_DATA_THEME}/{code}"


def language_uri(lang: str) -> str | None:
    code = LANGUAGE_EU.get(lang)
    return f"{EU_LANGUAGE}/{code}" if code else None


def licence_uri(spdx_id: str | None) -> str | None:
    """The EU licence table URI of an SPDX-style id, or None when the table has no such licence
    (or none is stated)."""
    if not spdx_id:
        return None
    code = LICENCE_EU.get(spdx_id) or {k.lower(): v for k, v in LICENCE_EU.items()}.get(
        spdx_id.lower()
    )
    return f"{EU_LICENCE}/{code}" if code else None


def licence_page(spdx_id: str | None, url: str | None = None) -> str | None:
    """Where a stated licence is to be read: its own URL, else the EU table's entry, else the
    SPDX list's page (a LicenseRef- id has none: its descriptor gives licence_url)."""
    if not spdx_id:
        return url
    if url or licence_uri(spdx_id):
        return url or licence_uri(spdx_id)
    return (
        None if spdx_id.startswith("LicenseRef-") else f"https://spdx.org/licenses/{spdx_id}.html"
    )


# Who may see a resource (descriptor `access`) as the EU access-right authority table says it:
# internal (municipal staff only) is not public; restricted (named groups) is restricted.
EU_ACCESS_RIGHT = "http://publications.europa.eu/resource/authority/access-right"
ACCESS_RIGHTS = {"public": "PUBLIC", "internal": "NON_PUBLIC", "restricted": "RESTRICTED"}


def access_right_uri(access: str) -> str:
    return f"{EU_ACCESS_RIGHT}/{ACCESS_RIGHTS.get(access, 'NON_PUBLIC')}"


def frequency_uri(iso_code: str) -> str:
    return f"{EU_FREQUENCY}/{FREQUENCY_EU.get(iso_code, 'UNKNOWN')}"


def file_type_uri(media_type: str) -> str | None:
    code = FILE_TYPE_EU.get(media_type.split(";")[0].strip().lower())
    return f"{EU_FILE_TYPE}/{code}" if code else None


def media_type_uri(media_type: str) -> str:
    return IANA_MEDIA_TYPES + media_type.split(";")[0].strip().lower()
