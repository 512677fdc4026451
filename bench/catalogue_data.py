"""Records for the catalogue benchmark: a city's catalogue, deterministic (seeded).

Titles, descriptions, keywords and field labels in Greek (with accents) and English; about
3.37 % of the records are "Σχολεία <area>" / "Schools <area>". Bounding boxes mostly in the
Thessaloniki metropolitan area, the rest in other Greek cities; temporal extents for part of
the records. The true answer of every benchmark search is computed here, from the generated
values, independently of any server.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from geoservice.store.records import Entry, FieldEntry, Link

SEED = 20261124
SCHOOL_SHARE = 0.0337  # 337 of 10,000


@dataclass(frozen=True)
class Area:
    el: str  # genitive, as in a title: "Σχολεία Καλαμαριάς"
    en: str
    lon: float
    lat: float
    spread: float  # how far (degrees) record boxes wander from the centre
    weight: int


AREAS = [  # Thessaloniki metropolitan area first, then other cities
    Area("Θεσσαλονίκης", "Thessaloniki", 22.945, 40.632, 0.02, 30),
    Area("Καλαμαριάς", "Kalamaria", 22.952, 40.582, 0.012, 10),
    Area("Πυλαίας-Χορτιάτη", "Pylaia-Chortiatis", 23.03, 40.6, 0.04, 7),
    Area("Νεάπολης-Συκεών", "Neapoli-Sykies", 22.968, 40.652, 0.01, 7),
    Area("Παύλου Μελά", "Pavlos Melas", 22.93, 40.668, 0.012, 6),
    Area("Αμπελοκήπων-Μενεμένης", "Ampelokipoi-Menemeni", 22.908, 40.652, 0.01, 5),
    Area("Κορδελιού-Ευόσμου", "Kordelio-Evosmos", 22.905, 40.672, 0.012, 6),
    Area("Θέρμης", "Thermi", 23.02, 40.545, 0.04, 5),
    Area("Θερμαϊκού", "Thermaikos", 22.91, 40.5, 0.04, 4),
    Area("Δέλτα", "Delta", 22.78, 40.62, 0.05, 4),
    Area("Ωραιοκάστρου", "Oraiokastro", 22.92, 40.73, 0.02, 3),
    Area("Λαγκαδά", "Lagkadas", 23.07, 40.75, 0.05, 3),
    Area("Χαλκηδόνος", "Chalkidona", 22.6, 40.73, 0.05, 2),
    Area("Αθηναίων", "Athens", 23.73, 37.98, 0.03, 3),
    Area("Πατρέων", "Patras", 21.73, 38.25, 0.03, 1),
    Area("Ηρακλείου", "Heraklion", 25.13, 35.34, 0.03, 1),
    Area("Λαρισαίων", "Larissa", 22.42, 39.64, 0.03, 1),
    Area("Βόλου", "Volos", 22.94, 39.36, 0.03, 1),
    Area("Ιωαννιτών", "Ioannina", 20.85, 39.66, 0.03, 1),
    Area("Καβάλας", "Kavala", 24.41, 40.94, 0.03, 1),
]


def _f(name, original, kind, el, en, examples=()):
    return (name, original, kind, el, en, list(examples))


@dataclass(frozen=True)
class Theme:
    key: str
    el: str
    en: str
    description_el: str
    description_en: str
    keywords_el: tuple[str, ...]
    keywords_en: tuple[str, ...]
    inspire: str
    geometry: str
    department: tuple[str, str]
    fields: tuple
    temporal: float  # share of records with a temporal extent
    weight: int


EDUCATION = ("Διεύθυνση Παιδείας", "Education Department")
ENVIRONMENT = ("Διεύθυνση Περιβάλλοντος", "Environment Department")
TRANSPORT = ("Διεύθυνση Συγκοινωνιών", "Transport Department")
PLANNING = ("Διεύθυνση Πολεοδομίας", "Urban Planning Department")
GIS = ("Τμήμα Γεωχωρικών Δεδομένων", "Geospatial Data Unit")
HEALTH = ("Διεύθυνση Δημόσιας Υγείας", "Public Health Department")
CLEANING = ("Διεύθυνση Καθαριότητας", "Cleaning Department")

NAME = _f("name", "ONOMA", "string", "Όνομα", "Name")
ADDRESS = _f("address", "DIEFTHYNSI", "string", "Διεύθυνση", "Address", ["Εγνατίας 12"])
CAPACITY = _f("capacity", "XORITIKOTITA", "integer", "Χωρητικότητα", "Capacity")
AREA_M2 = _f("area_m2", "EMVADON", "number", "Εμβαδόν (m²)", "Area (m²)")

THEMES = [
    Theme(
        "schools",
        "Σχολεία",
        "Schools",
        "Σχολικές μονάδες πρωτοβάθμιας και δευτεροβάθμιας εκπαίδευσης με τη θέση, τη "
        "βαθμίδα και τον αριθμό μαθητών κάθε σχολείου.",
        "Primary and secondary schools with the location, level and pupils of each school.",
        ("σχολεία", "εκπαίδευση", "μαθητές"),
        ("schools", "education", "pupils"),
        "us",
        "Point",
        EDUCATION,
        (
            NAME,
            CAPACITY,
            _f(
                "level",
                "VATHMIDA",
                "string",
                "Βαθμίδα",
                "Level",
                ["Νηπιαγωγείο", "Δημοτικό", "Γυμνάσιο", "Λύκειο"],
            ),
            _f("pupils", "MATHITES", "integer", "Μαθητές", "Pupils"),
            ADDRESS,
        ),
        0.2,
        0,
    ),  # fmt: skip
    Theme(
        "trees",
        "Δέντρα",
        "Trees",
        "Απογραφή αστικών δέντρων: είδος, ύψος, διάμετρος κορμού και κατάσταση υγείας.",
        "Urban tree inventory: species, height, trunk diameter and health.",
        ("δέντρα", "πράσινο", "φυτεύσεις"),
        ("trees", "greenery", "planting"),
        "sd",
        "Point",
        ENVIRONMENT,
        (
            _f(
                "species",
                "EIDOS",
                "string",
                "Είδος",
                "Species",
                ["Πλάτανος", "Λεύκα", "Νεραντζιά", "Κουτσουπιά"],
            ),
            _f("height", "YPSOS", "number", "Ύψος (m)", "Height (m)"),
            _f("planted", "FYTEFSI", "date", "Ημερομηνία φύτευσης", "Planting date"),
        ),
        0.3,
        12,
    ),  # fmt: skip
    Theme(
        "roads",
        "Οδικό δίκτυο",
        "Road network",
        "Άξονες οδών με κατηγορία, αριθμό λωρίδων και όριο ταχύτητας.",
        "Street centrelines with class, number of lanes and speed limit.",
        ("οδοί", "δρόμοι", "κυκλοφορία"),
        ("roads", "streets", "traffic"),
        "tn",
        "MultiLineString",
        TRANSPORT,
        (
            NAME,
            _f(
                "road_class",
                "KATIGORIA",
                "string",
                "Κατηγορία οδού",
                "Road class",
                ["Αρτηρία", "Συλλεκτήρια", "Τοπική"],
            ),
            _f("lanes", "LORIDES", "integer", "Λωρίδες", "Lanes"),
            _f("speed_limit", "ORIO_TAXYTITAS", "integer", "Όριο ταχύτητας", "Speed limit"),
        ),
        0.1,
        10,
    ),  # fmt: skip
    Theme(
        "bus_stops",
        "Στάσεις λεωφορείων",
        "Bus stops",
        "Στάσεις αστικών λεωφορείων με τις γραμμές που εξυπηρετούν και το στέγαστρο.",
        "City bus stops with the lines serving them and shelters.",
        ("στάσεις", "λεωφορεία", "ΟΑΣΘ"),
        ("bus stops", "buses", "public transport"),
        "tn",
        "Point",
        TRANSPORT,
        (
            _f("stop_code", "KODIKOS_STASIS", "string", "Κωδικός στάσης", "Stop code"),
            _f("lines", "GRAMMES", "string", "Γραμμές", "Lines", ["2", "31", "52"]),
            _f("shelter", "STEGASTRO", "boolean", "Στέγαστρο", "Shelter"),
        ),
        0.1,
        9,
    ),  # fmt: skip
    Theme(
        "parking",
        "Χώροι στάθμευσης",
        "Parking",
        "Δημοτικοί και ιδιωτικοί χώροι στάθμευσης με χωρητικότητα και ωράριο.",
        "Public and private car parks with capacity and opening hours.",
        ("στάθμευση", "πάρκινγκ"),
        ("parking", "car parks"),
        "tn",
        "Polygon",
        TRANSPORT,
        (
            NAME,
            CAPACITY,
            _f("hours", "ORARIO", "string", "Ωράριο", "Opening hours", ["24ωρο", "07:00-23:00"]),
        ),
        0.1,
        7,
    ),  # fmt: skip
    Theme(
        "buildings",
        "Κτίρια",
        "Buildings",
        "Περιγράμματα κτιρίων με αριθμό ορόφων, χρήση και έτος κατασκευής.",
        "Building footprints with floors, use and year of construction.",
        ("κτίρια", "δομημένο περιβάλλον"),
        ("buildings", "built environment"),
        "bu",
        "MultiPolygon",
        PLANNING,
        (
            _f("floors", "OROFOI", "integer", "Όροφοι", "Floors"),
            _f("use", "XRISI", "string", "Χρήση", "Use", ["Κατοικία", "Γραφεία", "Εμπόριο"]),
            _f("year_built", "ETOS_KATASKEVIS", "integer", "Έτος κατασκευής", "Year built"),
            AREA_M2,
        ),
        0.0,
        9,
    ),  # fmt: skip
    Theme(
        "noise",
        "Χάρτες θορύβου",
        "Noise maps",
        "Στρατηγικοί χάρτες θορύβου οδικής κυκλοφορίας (δείκτες Lden και Lnight).",
        "Strategic road traffic noise maps (Lden and Lnight indicators).",
        ("θόρυβος", "ακουστική"),
        ("noise", "acoustics"),
        "hh",
        "MultiPolygon",
        ENVIRONMENT,
        (
            _f("lden", "LDEN", "number", "Δείκτης Lden (dB)", "Lden (dB)"),
            _f("lnight", "LNIGHT", "number", "Δείκτης Lnight (dB)", "Lnight (dB)"),
        ),
        0.9,
        5,
    ),  # fmt: skip
    Theme(
        "air",
        "Ποιότητα αέρα",
        "Air quality",
        "Μετρήσεις ατμοσφαιρικών ρύπων (PM10, PM2.5, NO₂, O₃) από σταθμούς παρακολούθησης.",
        "Air pollutant measurements (PM10, PM2.5, NO₂, O₃) from monitoring stations.",
        ("ατμόσφαιρα", "ρύποι", "αιωρούμενα σωματίδια"),
        ("air quality", "pollution"),
        "ef",
        "Point",
        ENVIRONMENT,
        (
            _f("station", "STATHMOS", "string", "Σταθμός", "Station", ["Εγνατία", "Αγ. Σοφία"]),
            _f("pm10", "PM10", "number", "Αιωρούμενα σωματίδια PM10", "PM10"),
            _f("no2", "NO2", "number", "Διοξείδιο του αζώτου", "Nitrogen dioxide"),
            _f("measured", "METRISI", "datetime", "Χρόνος μέτρησης", "Measured at"),
        ),
        1.0,
        6,
    ),  # fmt: skip
    Theme(
        "land_use",
        "Χρήσεις γης",
        "Land use",
        "Ζώνες χρήσεων γης του εγκεκριμένου Γενικού Πολεοδομικού Σχεδίου.",
        "Land use zones of the approved General Urban Plan.",
        ("χρήσεις γης", "πολεοδομία", "ΓΠΣ"),
        ("land use", "zoning", "urban planning"),
        "lu",
        "MultiPolygon",
        PLANNING,
        (
            _f("zone", "ZONI", "string", "Ζώνη", "Zone", ["Γενική κατοικία", "Πράσινο"]),
            _f("sd", "SD", "number", "Συντελεστής δόμησης", "Building coefficient"),
            AREA_M2,
        ),
        0.3,
        6,
    ),  # fmt: skip
    Theme(
        "cadastre",
        "Κτηματολόγιο",
        "Cadastre",
        "Κτηματολογικά γεωτεμάχια με ΚΑΕΚ και εμβαδόν.",
        "Cadastral parcels with their national code (KAEK) and area.",
        ("κτηματολόγιο", "γεωτεμάχια", "ΚΑΕΚ"),
        ("cadastre", "parcels"),
        "cp",
        "MultiPolygon",
        PLANNING,
        (_f("kaek", "KAEK", "string", "ΚΑΕΚ", "Parcel code"), AREA_M2),
        0.0,
        6,
    ),  # fmt: skip
    Theme(
        "hospitals",
        "Νοσοκομεία και κέντρα υγείας",
        "Hospitals and health centres",
        "Νοσοκομεία και κέντρα υγείας με τον αριθμό κλινών και τις κλινικές τους.",
        "Hospitals and health centres with their beds and clinics.",
        ("υγεία", "νοσοκομεία"),
        ("health", "hospitals"),
        "hh",
        "Point",
        HEALTH,
        (
            NAME,
            _f("beds", "KLINES", "integer", "Κλίνες", "Beds"),
            _f("clinics", "KLINIKES", "string", "Κλινικές", "Clinics", ["Καρδιολογική"]),
            ADDRESS,
        ),
        0.0,
        3,
    ),  # fmt: skip
    Theme(
        "parks",
        "Πάρκα και πλατείες",
        "Parks and squares",
        "Κοινόχρηστοι χώροι πρασίνου, πάρκα, άλση και πλατείες με το εμβαδόν τους.",
        "Public green spaces, parks, groves and squares with their area.",
        ("πάρκα", "πλατείες", "πράσινο"),
        ("parks", "squares", "green spaces"),
        "lu",
        "MultiPolygon",
        ENVIRONMENT,
        (NAME, AREA_M2),
        0.0,
        5,
    ),  # fmt: skip
    Theme(
        "cycle",
        "Ποδηλατόδρομοι",
        "Cycle lanes",
        "Ποδηλατόδρομοι και ποδηλατολωρίδες με το πλάτος και το είδος διαχωρισμού.",
        "Cycle tracks and lanes with width and kind of separation.",
        ("ποδήλατο", "ήπια κινητικότητα"),
        ("cycling", "active mobility"),
        "tn",
        "MultiLineString",
        TRANSPORT,
        (
            _f("width", "PLATOS", "number", "Πλάτος (m)", "Width (m)"),
            _f("separation", "DIAXORISMOS", "string", "Διαχωρισμός", "Separation"),
        ),
        0.1,
        4,
    ),  # fmt: skip
    Theme(
        "lights",
        "Φωτισμός οδών",
        "Street lighting",
        "Φωτιστικά σώματα οδοφωτισμού με τύπο λαμπτήρα και ισχύ.",
        "Street lights with lamp type and power.",
        ("φωτισμός", "ενέργεια", "LED"),
        ("street lighting", "energy"),
        "us",
        "Point",
        GIS,
        (
            _f("lamp", "LAMPTIRAS", "string", "Λαμπτήρας", "Lamp", ["LED", "Νατρίου"]),
            _f("power_w", "ISXYS", "integer", "Ισχύς (W)", "Power (W)"),
        ),
        0.0,
        5,
    ),  # fmt: skip
    Theme(
        "bins",
        "Κάδοι απορριμμάτων",
        "Waste bins",
        "Κάδοι απορριμμάτων και ανακύκλωσης με τύπο και όγκο.",
        "Waste and recycling bins with type and volume.",
        ("απορρίμματα", "ανακύκλωση", "καθαριότητα"),
        ("waste", "recycling"),
        "us",
        "Point",
        CLEANING,
        (
            _f(
                "bin_type",
                "TYPOS",
                "string",
                "Τύπος κάδου",
                "Bin type",
                ["Μπλε", "Πράσινος", "Κομποστοποίησης"],
            ),
            _f("volume_l", "OGKOS", "integer", "Όγκος (l)", "Volume (l)"),
        ),
        0.0,
        5,
    ),  # fmt: skip
    Theme(
        "flood",
        "Ζώνες πλημμυρικού κινδύνου",
        "Flood risk zones",
        "Ζώνες δυνητικά υψηλού κινδύνου πλημμύρας για περιόδους επαναφοράς 50, 100 και 1000 ετών.",
        "Areas of potentially significant flood risk for 50, 100 and 1000-year return periods.",
        ("πλημμύρες", "φυσικοί κίνδυνοι"),
        ("floods", "natural hazards"),
        "nz",
        "MultiPolygon",
        GIS,
        (_f("return_period", "PERIODOS", "integer", "Περίοδος επαναφοράς", "Return period"),),
        0.8,
        3,
    ),  # fmt: skip
    Theme(
        "census",
        "Πληθυσμός απογραφής",
        "Census population",
        "Μόνιμος πληθυσμός ανά οικοδομικό τετράγωνο από την απογραφή της ΕΛΣΤΑΤ.",
        "Resident population per city block from the ELSTAT census.",
        ("απογραφή", "πληθυσμός", "ΕΛΣΤΑΤ"),
        ("census", "population"),
        "pd",
        "MultiPolygon",
        GIS,
        (
            _f("population", "PLITHYSMOS", "integer", "Πληθυσμός", "Population"),
            _f("households", "NOIKOKYRIA", "integer", "Νοικοκυριά", "Households"),
        ),
        1.0,
        4,
    ),  # fmt: skip
    Theme(
        "heritage",
        "Αρχαιολογικοί χώροι και μνημεία",
        "Archaeological sites and monuments",
        "Κηρυγμένοι αρχαιολογικοί χώροι, βυζαντινά μνημεία και διατηρητέα κτίρια.",
        "Designated archaeological sites, Byzantine monuments and listed buildings.",
        ("μνημεία", "πολιτιστική κληρονομιά"),
        ("monuments", "cultural heritage"),
        "ps",
        "MultiPolygon",
        PLANNING,
        (
            NAME,
            _f(
                "period",
                "PERIODOS",
                "string",
                "Περίοδος",
                "Period",
                ["Βυζαντινή", "Ρωμαϊκή", "Οθωμανική"],
            ),
        ),
        0.0,
        3,
    ),  # fmt: skip
    Theme(
        "traffic",
        "Κυκλοφοριακοί φόρτοι",
        "Traffic counts",
        "Ωριαίοι κυκλοφοριακοί φόρτοι από μετρητές βρόχων και κάμερες.",
        "Hourly traffic volumes from loop counters and cameras.",
        ("κυκλοφορία", "μετρητές"),
        ("traffic", "counters"),
        "tn",
        "Point",
        TRANSPORT,
        (
            _f("vehicles", "OXIMATA", "integer", "Οχήματα ανά ώρα", "Vehicles per hour"),
            _f("counted", "METRISI", "datetime", "Χρόνος μέτρησης", "Counted at"),
        ),
        1.0,
        4,
    ),  # fmt: skip
    Theme(
        "properties",
        "Δημοτικά ακίνητα",
        "Municipal properties",
        "Ακίνητα ιδιοκτησίας του Δήμου με χρήση, εμβαδόν και κατάσταση μίσθωσης.",
        "Properties owned by the municipality with use, area and lease status.",
        ("ακίνητη περιουσία", "μισθώσεις"),
        ("real estate", "leases"),
        "bu",
        "Polygon",
        PLANNING,
        (ADDRESS, AREA_M2, _f("leased", "MISTHOMENO", "boolean", "Μισθωμένο", "Leased")),
        0.0,
        4,
    ),  # fmt: skip
]
LICENCES = ["CC-BY-4.0"] * 6 + ["CC0-1.0"] * 2 + ["ODbL-1.0", "CC-BY-SA-4.0"]
FREQUENCIES = ["annually", "monthly", "asNeeded", "irregular", "daily", "unknown"]


@dataclass(frozen=True)
class Query:
    """One benchmark search: ours (OGC API Records), pycsw 2.6.2's and pycsw 3.0's nearest,
    and the truth."""

    name: str
    label: str
    ours: dict[str, str]  # query parameters of /collections/catalogue/items
    pycsw: dict[str, str] | None  # KVP parameters of pycsw's endpoint (None: no equivalent)
    pycsw_note: str  # what pycsw's parameters mean / why they differ
    # query parameters of pycsw 3.0's /collections/metadata:main/items, and what they mean
    pycsw3: dict[str, str] | None = None
    pycsw3_note: str = ""


THESSALONIKI_BBOX = (22.8737, 40.5512, 23.0468, 40.6971)
INTERVAL = ("2015-03-01T00:00:00Z", "2016-06-30T23:59:59Z")
CSW = {
    "service": "CSW",
    "version": "2.0.2",
    "request": "GetRecords",
    "typenames": "csw:Record",
    "elementsetname": "full",
    "resulttype": "results",
    "maxrecords": "10",
}
OPENSEARCH = {"mode": "opensearch", **CSW}
BBOX_TEXT = ",".join(str(v) for v in THESSALONIKI_BBOX)

QUERIES = [
    Query("q_en", "q=schools", {"q": "schools"}, {**OPENSEARCH, "q": "schools"},
          "OpenSearch q (csw:AnyText; PostgreSQL full text, english config)",
          {"q": "schools"}, "q (anytext ILIKE '%schools%')"),
    Query("q_el", "q=σχολεια (no accents)", {"q": "σχολεια"}, {**OPENSEARCH, "q": "σχολεια"},
          "OpenSearch q (csw:AnyText; PostgreSQL full text, english config)",
          {"q": "σχολεια"}, "q (anytext ILIKE '%σχολεια%')"),
    Query("bbox", "bbox Thessaloniki", {"bbox": BBOX_TEXT}, {**OPENSEARCH, "bbox": BBOX_TEXT},
          "OpenSearch bbox (ogc:BBOX on the record's envelope)",
          {"bbox": BBOX_TEXT}, "bbox (CQL BBOX(geometry, …))"),
    Query("bbox_q", "bbox + q=schools", {"bbox": BBOX_TEXT, "q": "schools"},
          {**OPENSEARCH, "bbox": BBOX_TEXT, "q": "schools"}, "OpenSearch bbox + q",
          {"bbox": BBOX_TEXT, "q": "schools"}, "bbox + q"),
    Query("datetime", "datetime interval (overlaps)", {"datetime": "/".join(INTERVAL)},
          {**OPENSEARCH, "time": "/".join(INTERVAL)},
          "OpenSearch time=start/end (with the ISO profile: TempExtent_begin >= start AND "
          "TempExtent_end <= end, i.e. fully inside)",
          {"datetime": "/".join(INTERVAL)},
          "datetime=start/end (time_begin >= start AND time_end <= end, i.e. fully inside)"),
    Query("cql_title", "CQL2 title LIKE '%Θεσσαλονίκης%'",
          {"filter": "title LIKE '%Θεσσαλονίκης%'"},
          {**CSW, "constraintlanguage": "CQL_TEXT",
           "constraint": "dc:title like '%Θεσσαλονίκης%'"},
          "CSW GetRecords, CQL_TEXT dc:title like",
          {"filter": "title LIKE '%Θεσσαλονίκης%'"}, "filter (CQL text, title LIKE)"),
    Query("field", "field=χωρητικοτητα", {"field": "χωρητικοτητα"},
          {**OPENSEARCH, "q": "χωρητικοτητα"},
          "no field search in pycsw (ISO 19139 has no attribute list here): nearest is "
          "q=χωρητικοτητα (csw:AnyText)",
          {"q": "χωρητικοτητα"}, "no field search: nearest is q=χωρητικοτητα (anytext)"),
    Query("none", "no parameters", {}, dict(CSW), "CSW GetRecords, no constraint",
          {}, "no parameters"),
    Query("sort", "sortby=-updated (newest first)", {"sortby": "-updated"},
          {**CSW, "sortby": "apiso:RevisionDate:D"},
          "CSW GetRecords sortby=apiso:RevisionDate:D (the record's revision date)",
          {"sortby": "-date"},
          "sortby=-date (the record's revision date; its 'updated' is the time it was loaded)"),
    Query("page", "sortby=-updated, offset 5,000", {"sortby": "-updated", "offset": "5000"},
          {**CSW, "sortby": "apiso:RevisionDate:D", "startposition": "5001"},
          "CSW GetRecords sortby=apiso:RevisionDate:D, startposition=5001",
          {"sortby": "-date", "offset": "5000"}, "sortby=-date, offset=5000"),
]  # fmt: skip


def fold(text: str) -> str:
    """Lower case without accents (what a user expects "σχολεια" to match)."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def generate(count: int, seed: int = SEED) -> list[Entry]:
    rng = random.Random(seed)
    schools = round(count * SCHOOL_SHARE)
    others = [t for t in THEMES if t.key != "schools"]
    school_ids = set(rng.sample(range(count), schools))
    area_weights = [a.weight for a in AREAS]
    theme_weights = [t.weight for t in others]
    base = datetime(2024, 1, 1, tzinfo=UTC)
    entries = []
    for i in range(count):
        theme = THEMES[0] if i in school_ids else rng.choices(others, theme_weights)[0]
        area = rng.choices(AREAS, area_weights)[0]
        edition = rng.randint(2008, 2025)
        lon = area.lon + rng.uniform(-area.spread, area.spread)
        lat = area.lat + rng.uniform(-area.spread, area.spread)
        half_w, half_h = rng.uniform(0.002, 0.03), rng.uniform(0.002, 0.02)
        bbox = [
            round(lon - half_w, 6),
            round(lat - half_h, 6),
            round(lon + half_w, 6),
            round(lat + half_h, 6),
        ]
        temporal = None
        if rng.random() < theme.temporal:
            start = datetime(edition, 1, 1, tzinfo=UTC) + timedelta(days=rng.randint(0, 300))
            if rng.random() < 0.1:
                temporal = [_iso(start), None]  # still being collected
            else:
                end = start + timedelta(days=rng.choice([30, 90, 365, 365, 730, 1500]))
                temporal = [_iso(start), _iso(end)]
        updated = base + timedelta(days=rng.randint(0, 600), seconds=rng.randint(0, 86399))
        record_id = f"{theme.key}-{_slug(area.en)}-{edition}-{i:05d}"
        fields = [
            FieldEntry(
                name, original, kind, {"el": el, "en": en}, list(examples) + [f"{area.el} {i}"]
                if kind == "string" else [],
            )
            for name, original, kind, el, en, examples in theme.fields
        ]  # fmt: skip
        entries.append(
            Entry(
                id=record_id,
                kind="dataset",
                title={
                    "el": f"{theme.el} {area.el} {edition}",
                    "en": f"{theme.en} {area.en} {edition}",
                },
                description={
                    "el": f"{theme.description_el} Περιοχή: Δήμος {area.el}, έκδοση {edition}.",
                    "en": f"{theme.description_en} Area: {area.en} municipality, "
                    f"edition {edition}.",
                },
                keywords={
                    "el": [*theme.keywords_el, area.el],
                    "en": [*theme.keywords_en, area.en],
                },
                licence=rng.choice(LICENCES),
                attribution="Δήμος Θεσσαλονίκης",
                contact={
                    "department": {"el": theme.department[0], "en": theme.department[1]},
                    "email": "gis@thessaloniki.gr",
                },
                inspire_theme=theme.inspire,
                bbox=bbox,
                source_crs="EPSG:2100",
                temporal=temporal,
                geometry_type=theme.geometry,
                feature_count=rng.randint(5, 250_000),
                fields=fields,
                created=_iso(updated - timedelta(days=rng.randint(0, 2000))),
                updated=_iso(updated),
                update_frequency=rng.choice(FREQUENCIES),
                links=[
                    Link(f"/collections/{record_id}", "collection", "application/json"),
                    Link(f"/collections/{record_id}/items", "items", "application/geo+json"),
                ],
            )
        )
    return entries


def truth(entries: list[Entry]) -> dict[str, int]:
    """The right number of hits of each query, from the generated values."""

    def overlaps_bbox(e: Entry) -> bool:
        x0, y0, x1, y1 = THESSALONIKI_BBOX
        b = e.bbox
        return b is not None and b[0] <= x1 and b[2] >= x0 and b[1] <= y1 and b[3] >= y0

    def overlaps_time(e: Entry) -> bool:
        if not e.temporal:
            return False
        start, end = INTERVAL
        t0, t1 = e.temporal
        return (t0 is None or t0 <= _norm(end)) and (t1 is None or t1 >= _norm(start))

    def is_school(e: Entry) -> bool:
        return e.id.startswith("schools-")

    def has_capacity(e: Entry) -> bool:
        return any(fold((f.label or {}).get("el", "")).startswith("χωρητικοτητ") for f in e.fields)

    return {
        "q_en": sum(map(is_school, entries)),
        "q_el": sum(map(is_school, entries)),
        "bbox": sum(map(overlaps_bbox, entries)),
        "bbox_q": sum(1 for e in entries if is_school(e) and overlaps_bbox(e)),
        "datetime": sum(map(overlaps_time, entries)),
        "datetime_inside": sum(
            1
            for e in entries
            if e.temporal
            and e.temporal[0] is not None
            and e.temporal[1] is not None
            and e.temporal[0] >= _norm(INTERVAL[0])
            and e.temporal[1] <= _norm(INTERVAL[1])
        ),
        "cql_title": sum(1 for e in entries if "Θεσσαλονίκης" in e.title["el"]),
        "field": sum(map(has_capacity, entries)),
        "none": len(entries),
        "sort": len(entries),
        "page": len(entries),
    }


PAGE_OFFSETS = {"sort": 0, "page": 5000}  # searches whose answer is also a page in an order


def truth_pages(entries: list[Entry], limit: int = 10) -> dict[str, list[str]]:
    """The ids of the page each ordered search must answer: newest revision first
    (`updated`: generated to the second, every value distinct)."""
    newest = [e.id for e in sorted(entries, key=lambda e: e.updated or "", reverse=True)]
    return {name: newest[offset : offset + limit] for name, offset in PAGE_OFFSETS.items()}


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _norm(value: str) -> str:
    return value.replace("+00:00", "Z")


def _slug(text: str) -> str:
    return fold(text).replace(" ", "-")
