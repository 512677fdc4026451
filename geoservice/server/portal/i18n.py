"""The portal's texts in Greek and English, and the visitor's language.

Greek is the default; `?lang=en|el` switches and a cookie remembers the choice. A key
missing from a language falls back to the other, then to the key itself (never an error).
"""

from __future__ import annotations

from flask import Response, request

LANGUAGES = ("el", "en")
DEFAULT = "el"
COOKIE = "lang"

STRINGS: dict[str, dict[str, str]] = {
    "portal": {"el": "Πύλη δεδομένων", "en": "Data portal"},
    "site": {"el": "Χωρικά δεδομένα Δήμου Θεσσαλονίκης", "en": "Thessaloniki city data"},
    "skip": {"el": "Μετάβαση στο περιεχόμενο", "en": "Skip to content"},
    "home": {"el": "Αναζήτηση", "en": "Search"},
    "dashboard": {"el": "Πίνακας ελέγχου", "en": "Dashboard"},
    "api": {"el": "API", "en": "API"},
    "language": {"el": "Γλώσσα", "en": "Language"},
    "other_language": {"el": "English", "en": "Ελληνικά"},
    "main_nav": {"el": "Κύρια πλοήγηση", "en": "Main navigation"},
    "signin": {"el": "Σύνδεση προσωπικού", "en": "Staff sign-in"},
    "signin_heading": {"el": "Σύνδεση προσωπικού του Δήμου", "en": "Sign in as city staff"},
    "signin_label": {"el": "Κλειδί API ή διακριτικό", "en": "API key or token"},
    "signin_hint": {
        "el": "Το κλειδί που σας έδωσε η ομάδα GIS (geoservice keys create), το ίδιο που "
        "χρησιμοποιείτε στο QGIS. Με αυτό βλέπετε και τα εσωτερικά δεδομένα· η σύνδεση "
        "διαρκεί μία εργάσιμη ημέρα.",
        "en": "The key the GIS team gave you (geoservice keys create), the one you use in "
        "QGIS. With it you also see the internal data; the sign-in lasts a working day.",
    },
    "signin_button": {"el": "Σύνδεση", "en": "Sign in"},
    "signout": {"el": "Αποσύνδεση", "en": "Sign out"},
    "signed_in_as": {"el": "Συνδεδεμένος/η: {name}", "en": "Signed in: {name}"},
    "signin_refused": {
        "el": "Το κλειδί δεν έγινε δεκτό: είναι άγνωστο, ανακλημένο ή έχει λήξει.",
        "en": "The key was not accepted: it is unknown, revoked or expired.",
    },
    "signin_elsewhere": {
        "el": "Η σύνδεση γίνεται μόνο από τη φόρμα της πύλης.",
        "en": "Sign in from the portal's own form.",
    },
    "search_heading": {"el": "Βρείτε δεδομένα της πόλης", "en": "Find the city's data"},
    "search_label": {"el": "Λέξεις αναζήτησης", "en": "Search words"},
    "search_hint": {
        "el": "Ελληνικά ή αγγλικά, με ή χωρίς τόνους· κόμμα για εναλλακτικές.",
        "en": "Greek or English, with or without accents; a comma for alternatives.",
    },
    "search_button": {"el": "Αναζήτηση", "en": "Search"},
    "area": {"el": "Περιοχή", "en": "Area"},
    "area_map_hint": {
        "el": "Σχεδιάστε ορθογώνιο στον χάρτη ή μετακινήστε τον και πατήστε «Αυτή η περιοχή».",
        "en": "Draw a rectangle on the map, or pan it and press “This area”.",
    },
    "map_area": {"el": "Αυτή η περιοχή", "en": "This area"},
    "draw_area": {"el": "Σχεδίαση περιοχής", "en": "Draw an area"},
    "search_map": {"el": "Χάρτης αναζήτησης", "en": "Search map"},
    "place": {"el": "Δήμος ή περιοχή", "en": "Municipality or place"},
    "any_place": {"el": "Οποιαδήποτε", "en": "Anywhere"},
    "coordinates": {
        "el": "Συντεταγμένες (δυτ., νότ., ανατ., βόρ. σε μοίρες WGS84)",
        "en": "Coordinates (west, south, east, north in WGS84 degrees)",
    },
    "coordinates_example": {
        "el": "π.χ. 22.90,40.60,23.00,40.66",
        "en": "e.g. 22.90,40.60,23.00,40.66",
    },
    "clear_area": {"el": "Καμία περιοχή", "en": "Clear area"},
    "filters": {"el": "Φίλτρα", "en": "Filters"},
    "theme": {"el": "Θέμα", "en": "Theme"},
    "department": {"el": "Υπηρεσία", "en": "Department"},
    "keyword": {"el": "Λέξη-κλειδί", "en": "Keyword"},
    "geometryType": {"el": "Τύπος γεωμετρίας", "en": "Geometry type"},
    "freshness": {"el": "Ενημέρωση", "en": "Updated"},
    "fresh_7": {"el": "την τελευταία εβδομάδα", "en": "in the last week"},
    "fresh_30": {"el": "τον τελευταίο μήνα", "en": "in the last month"},
    "fresh_365": {"el": "τον τελευταίο χρόνο", "en": "in the last year"},
    "remove_filter": {"el": "Αφαίρεση φίλτρου", "en": "Remove filter"},
    "active_filters": {"el": "Ενεργά φίλτρα", "en": "Active filters"},
    "clear_all": {"el": "Καθαρισμός όλων", "en": "Clear all"},
    "results": {"el": "Αποτελέσματα", "en": "Results"},
    "n_results": {"el": "{n} σύνολα δεδομένων", "en": "{n} datasets"},
    "no_results": {
        "el": "Κανένα σύνολο δεδομένων δεν ταιριάζει. Δοκιμάστε λιγότερες λέξεις ή φίλτρα.",
        "en": "No dataset matches. Try fewer words or filters.",
    },
    "previous": {"el": "Προηγούμενα", "en": "Previous"},
    "next": {"el": "Επόμενα", "en": "Next"},
    "pages": {"el": "Σελίδες αποτελεσμάτων", "en": "Result pages"},
    "page_of": {"el": "Σελίδα {page} από {pages}", "en": "Page {page} of {pages}"},
    "updated": {"el": "Τελευταία ενημέρωση", "en": "Last updated"},
    "licence": {"el": "Άδεια", "en": "Licence"},
    "features": {"el": "Στοιχεία", "en": "Features"},
    "extent_of": {"el": "Έκταση του «{title}» στην Ελλάδα", "en": "Extent of “{title}” in Greece"},
    "no_extent": {"el": "Χωρίς έκταση", "en": "No extent"},
    # dataset page
    "metadata": {"el": "Μεταδεδομένα", "en": "Metadata"},
    "description": {"el": "Περιγραφή", "en": "Description"},
    "keywords": {"el": "Λέξεις-κλειδιά", "en": "Keywords"},
    "contact": {"el": "Επικοινωνία", "en": "Contact"},
    "source_crs": {"el": "Σύστημα αναφοράς πηγής", "en": "Source CRS"},
    "extent": {"el": "Έκταση (WGS84)", "en": "Extent (WGS84)"},
    "time_extent": {"el": "Χρονική κάλυψη", "en": "Time span"},
    "update_frequency": {"el": "Συχνότητα ενημέρωσης", "en": "Update frequency"},
    "preview": {"el": "Προεπισκόπηση", "en": "Preview"},
    "preview_map": {"el": "Χάρτης προεπισκόπησης", "en": "Preview map"},
    "preview_note": {
        "el": "Ο χάρτης δείχνει έως {n} στοιχεία· μετακινήστε τον για άλλη περιοχή.",
        "en": "The map shows up to {n} features; pan it to see another area.",
    },
    "loading": {"el": "Φόρτωση…", "en": "Loading…"},
    "shown_on_map": {"el": "Στοιχεία στον χάρτη", "en": "Features on the map"},
    "attributes": {"el": "Πίνακας ιδιοτήτων", "en": "Attribute table"},
    "sort_by": {"el": "Ταξινόμηση κατά {name}", "en": "Sort by {name}"},
    "rows": {"el": "Γραμμές {first}–{last} από {total}", "en": "Rows {first}–{last} of {total}"},
    "noscript_table": {
        "el": "Ο πίνακας χρειάζεται JavaScript· δείτε τα στοιχεία ως σελίδα HTML:",
        "en": "The table needs JavaScript; see the features as an HTML page:",
    },
    "download": {"el": "Λήψη", "en": "Download"},
    "format": {"el": "Μορφή", "en": "Format"},
    "crs": {"el": "Σύστημα συντεταγμένων", "en": "Coordinate reference system"},
    "crs_2100": {"el": "ΕΓΣΑ87 / EPSG:2100", "en": "GGRS87 / EPSG:2100"},
    "crs_4326": {"el": "WGS84 / EPSG:4326", "en": "WGS84 / EPSG:4326"},
    "kml_note": {"el": "Το KML είναι πάντα σε WGS84.", "en": "KML is always in WGS84."},
    "only_map_area": {
        "el": "Μόνο η περιοχή που φαίνεται στον χάρτη",
        "en": "Only the area currently on the map",
    },
    "download_bbox": {
        "el": "Περιοχή λήψης (δυτ., νότ., ανατ., βόρ., WGS84· κενό = όλα)",
        "en": "Download area (west, south, east, north, WGS84; empty = all)",
    },
    "download_button": {"el": "Λήψη αρχείου", "en": "Download file"},
    "api_links": {"el": "Σύνδεσμοι API", "en": "API links"},
    "api_collection": {
        "el": "Η συλλογή (OGC API - Features)",
        "en": "The collection (OGC API - Features)",
    },
    "api_items": {"el": "Τα στοιχεία (GeoJSON)", "en": "The features (GeoJSON)"},
    "api_queryables": {"el": "Πεδία αναζήτησης", "en": "Queryable fields"},
    "api_record": {"el": "Η εγγραφή καταλόγου", "en": "The catalogue record"},
    "api_dcat": {"el": "DCAT-AP", "en": "DCAT-AP"},
    "api_iso": {"el": "ISO 19139 / INSPIRE", "en": "ISO 19139 / INSPIRE"},
    "qgis": {"el": "Άνοιγμα στο QGIS", "en": "Open in QGIS"},
    "qgis_steps": {
        "el": "Επίπεδο ▸ Προσθήκη επιπέδου ▸ Προσθήκη επιπέδου WFS / OGC API - Features ▸ "
        "Νέα σύνδεση· URL: τη διεύθυνση παρακάτω ▸ Σύνδεση ▸ επιλέξτε «{id}».",
        "en": "Layer ▸ Add Layer ▸ Add WFS / OGC API - Features Layer ▸ New connection; URL: the "
        "address below ▸ Connect ▸ pick “{id}”.",
    },
    "qgis_url": {"el": "URL σύνδεσης", "en": "Connection URL"},
    "pyqgis": {"el": "Στην κονσόλα Python του QGIS", "en": "In the QGIS Python console"},
    "gdal": {"el": "Με GDAL", "en": "With GDAL"},
    "attribution": {"el": "Απόδοση", "en": "Attribution"},
    "licence_attribution": {"el": "Άδεια και απόδοση", "en": "Licence and attribution"},
    "history": {"el": "Ιστορικό φορτώσεων", "en": "Load history"},
    "started": {"el": "Έναρξη", "en": "Started"},
    "status": {"el": "Κατάσταση", "en": "Status"},
    "seconds": {"el": "Διάρκεια (δ)", "en": "Duration (s)"},
    "encoding": {"el": "Κωδικοποίηση", "en": "Encoding"},
    "quality": {"el": "Σημειώσεις ποιότητας", "en": "Quality notes"},
    "null_geometries": {"el": "Κενές γεωμετρίες", "en": "Null geometries"},
    "repaired_geometries": {"el": "Επιδιορθωμένες γεωμετρίες", "en": "Repaired geometries"},
    "warnings": {"el": "Προειδοποιήσεις", "en": "Warnings"},
    "error": {"el": "Σφάλμα", "en": "Error"},
    "none": {"el": "Καμία", "en": "None"},
    "status_published": {"el": "δημοσιεύτηκε", "en": "published"},
    "status_failed": {"el": "απέτυχε", "en": "failed"},
    "status_running": {"el": "σε εξέλιξη", "en": "running"},
    "fields": {"el": "Πεδία", "en": "Fields"},
    "field": {"el": "Πεδίο", "en": "Field"},
    "type": {"el": "Τύπος", "en": "Type"},
    "examples": {"el": "Παραδείγματα τιμών", "en": "Example values"},
    "not_found": {"el": "Δεν βρέθηκε", "en": "Not found"},
    "back_to_search": {"el": "Επιστροφή στην αναζήτηση", "en": "Back to search"},
    # dashboard
    "dashboard_heading": {"el": "Πίνακας ελέγχου δεδομένων", "en": "Data dashboard"},
    "per_department": {"el": "Σύνολα δεδομένων ανά υπηρεσία", "en": "Datasets per department"},
    "per_theme": {"el": "Σύνολα δεδομένων ανά θέμα", "en": "Datasets per theme"},
    "datasets": {"el": "Σύνολα δεδομένων", "en": "Datasets"},
    "count": {"el": "Πλήθος", "en": "Count"},
    "freshness_heading": {
        "el": "Επικαιρότητα σε σχέση με τη συχνότητα ενημέρωσης",
        "en": "Freshness against the update frequency",
    },
    "dataset": {"el": "Σύνολο δεδομένων", "en": "Dataset"},
    "age_days": {"el": "Ηλικία (ημέρες)", "en": "Age (days)"},
    "state": {"el": "Κατάσταση", "en": "State"},
    "stale": {"el": "Ληξιπρόθεσμο", "en": "Stale"},
    "fresh": {"el": "Επίκαιρο", "en": "Up to date"},
    "no_schedule": {"el": "Χωρίς πρόγραμμα", "en": "No schedule"},
    "n_stale": {"el": "{n} ληξιπρόθεσμα", "en": "{n} stale"},
    "n_unscheduled": {"el": "{n} χωρίς πρόγραμμα ενημέρωσης", "en": "{n} with no update schedule"},
    "freshness_note": {
        "el": "Ληξιπρόθεσμο: παλαιότερο από όσο επιτρέπει η δηλωμένη συχνότητα ενημέρωσης "
        "(π.χ. μηνιαία: 32 ημέρες). Πρώτα τα ληξιπρόθεσμα.",
        "en": "Stale: older than its declared update frequency allows (e.g. monthly: 32 days). "
        "Stale ones first.",
    },
    "growth_note": {
        "el": "Σύνολα δεδομένων στον κατάλογο στο τέλος κάθε μήνα.",
        "en": "Datasets in the catalogue at the end of each month.",
    },
    "recent_loads": {"el": "Πρόσφατες φορτώσεις", "en": "Recent loads"},
    "growth": {"el": "Ανάπτυξη του καταλόγου", "en": "Catalogue growth"},
    "month": {"el": "Μήνας", "en": "Month"},
    "new_datasets": {"el": "Νέα σύνολα", "en": "New datasets"},
    "total": {"el": "Σύνολο", "en": "Total"},
    "unknown_department": {"el": "(χωρίς υπηρεσία)", "en": "(no department)"},
}

FREQUENCIES = {  # ISO 19115 maintenance frequency -> (days allowed, el, en)
    "continual": (1, "συνεχώς", "continually"),
    "daily": (2, "ημερήσια", "daily"),
    "weekly": (8, "εβδομαδιαία", "weekly"),
    "fortnightly": (15, "ανά δεκαπενθήμερο", "fortnightly"),
    "monthly": (32, "μηνιαία", "monthly"),
    "quarterly": (93, "ανά τρίμηνο", "quarterly"),
    "biannually": (184, "ανά εξάμηνο", "twice a year"),
    "annually": (366, "ετήσια", "annually"),
    "asNeeded": (None, "όποτε χρειάζεται", "as needed"),
    "irregular": (None, "ακανόνιστα", "irregularly"),
    "notPlanned": (None, "δεν προγραμματίζεται", "not planned"),
    "unknown": (None, "άγνωστη", "unknown"),
}


def language() -> str:
    """The visitor's language: ?lang=, else the remembered cookie, else Greek."""
    wanted = (request.args.get("lang") or request.cookies.get(COOKIE) or DEFAULT).lower()[:2]
    return wanted if wanted in LANGUAGES else DEFAULT


def remember(response: Response, lang: str) -> None:
    """Remember an explicit choice for a year (every page under / reads it)."""
    response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", path="/")


def translator(lang: str):
    """t(key, **values) for templates: the text in `lang`, formatted with `values`."""
    other = "en" if lang == "el" else "el"

    def t(key: str, **values: object) -> str:
        texts = STRINGS.get(key)
        text = (texts.get(lang) or texts.get(other)) if texts else key
        return text.format(**values) if values else text

    return t


def pick(texts: dict | str | None, lang: str) -> str:
    """A bilingual value ({el, en}) in `lang`, falling back to the other language."""
    if texts is None:
        return ""
    if isinstance(texts, str):
        return texts
    return texts.get(lang) or texts.get("en" if lang == "el" else "el") or ""


def frequency(code: str | None, lang: str) -> str:
    found = FREQUENCIES.get(code or "unknown", FREQUENCIES["unknown"])
    return found[1] if lang == "el" else found[2]
