# ruff: noqa: E501  (a translation table: one message per line reads best)
"""Greek (and English) for every string pygeoapi's templates and our overrides translate.

pygeoapi ships no Greek. This file is the source; `python geoservice/templates/locale/translations.py`
writes el/ and en/ LC_MESSAGES/messages.po and .mo, which pygeoapi loads from
`server.locale_dir` (babel Translations.load). tests/test_portal.py checks every msgid the
templates use has a Greek translation and that the .mo files are current.
"""

from __future__ import annotations

from pathlib import Path

GREEK = {
    "text_direction": "ltr",
    "Contact": "Επικοινωνία",
    "Admin": "Διαχείριση",
    "Home": "Αρχική",
    "json": "json",
    "jsonld": "jsonld",
    "Powered by ": "Με την υποστήριξη του ",
    "Conformance": "Συμμόρφωση",
    "Exception": "Σφάλμα",
    "Terms of service": "Όροι χρήσης",
    "License": "Άδεια",
    "URL": "URL",
    "Collections": "Συλλογές",
    "View the collections in this service": "Δείτε τις συλλογές αυτής της υπηρεσίας",
    "SpatioTemporal Assets": "Χωροχρονικοί πόροι",
    "View the SpatioTemporal Assets in this service": "Δείτε τους χωροχρονικούς πόρους της υπηρεσίας",
    "Processes": "Διεργασίες",
    "View the processes in this service": "Δείτε τις διεργασίες αυτής της υπηρεσίας",
    "Jobs": "Εργασίες",
    "Browse jobs": "Περιήγηση στις εργασίες",
    "Tile Matrix Sets": "Σύνολα πλεγμάτων πλακιδίων",
    "View the Tile Matrix Sets available on this service": "Δείτε τα σύνολα πλεγμάτων πλακιδίων της υπηρεσίας",
    "Pub/Sub Notifications": "Ειδοποιήσεις Pub/Sub",
    "Subscribe to notifications from this service": "Εγγραφή σε ειδοποιήσεις της υπηρεσίας",
    "API Definition": "Ορισμός του API",
    "Documentation": "Τεκμηρίωση",
    "Swagger UI": "Swagger UI",
    "ReDoc": "ReDoc",
    "OpenAPI Document": "Έγγραφο OpenAPI",
    "AsyncAPI Definition": "Ορισμός AsyncAPI",
    "UI": "Διεπαφή",
    "AsyncAPI Document": "Έγγραφο AsyncAPI",
    "View the conformance classes of this service": "Δείτε τις κλάσεις συμμόρφωσης της υπηρεσίας",
    "Provider": "Πάροχος",
    "Contact point": "Σημείο επικοινωνίας",
    "Address": "Διεύθυνση",
    "Email": "Ηλεκτρονικό ταχυδρομείο",
    "Telephone": "Τηλέφωνο",
    "Fax": "Φαξ",
    "Contact URL": "URL επικοινωνίας",
    "Hours": "Ώρες",
    "Contact instructions": "Οδηγίες επικοινωνίας",
    "Browse": "Περιήγηση",
    "Browse Items": "Περιήγηση στα στοιχεία",
    "Browse through the items of": "Περιήγηση στα στοιχεία της συλλογής",
    "Queryables": "Πεδία αναζήτησης",
    "Display Queryables": "Εμφάνιση πεδίων αναζήτησης",
    "Display Queryables of": "Εμφάνιση πεδίων αναζήτησης της συλλογής",
    "Schema": "Σχήμα",
    "Display Schema": "Εμφάνιση σχήματος",
    "Display Schema of": "Εμφάνιση σχήματος της συλλογής",
    "Tiles": "Πλακίδια",
    "Display Tiles": "Εμφάνιση πλακιδίων",
    "Display Tiles of": "Εμφάνιση πλακιδίων της συλλογής",
    "Coverage": "Κάλυψη",
    "Display Coverage": "Εμφάνιση κάλυψης",
    "Display Coverage of": "Εμφάνιση κάλυψης της συλλογής",
    "Links": "Σύνδεσμοι",
    "Reference Systems": "Συστήματα αναφοράς",
    "Storage CRS": "Σύστημα αποθήκευσης",
    "CRS": "Σύστημα συντεταγμένων",
    "Epoch": "Εποχή",
    "Data collections in this service": "Συλλογές δεδομένων της υπηρεσίας",
    "Name": "Όνομα",
    "Description": "Περιγραφή",
    "Record collections in this service": "Συλλογές εγγραφών της υπηρεσίας",
    "No items": "Κανένα στοιχείο",
    "Instances": "Στιγμιότυπα",
    "Instance": "Στιγμιότυπο",
    "%(query_type)s": "%(query_type)s",
    "Items": "Στοιχεία",
    "Items in this collection": "Στοιχεία αυτής της συλλογής",
    "Limit": "Όριο",
    "default": "προεπιλογή",
    "Warning: Higher limits not recommended!": "Προσοχή: δεν συνιστώνται μεγαλύτερα όρια!",
    "Prev": "Προηγούμενα",
    "Next": "Επόμενα",
    "Property": "Ιδιότητα",
    "Value": "Τιμή",
    "Tile Matrix Set": "Σύνολο πλέγματος πλακιδίων",
    "Metadata": "Μεταδεδομένα",
    "Warning: Basemap may be in a different projection": "Προσοχή: ο υπόβαθρος χάρτης μπορεί να είναι σε άλλη προβολή",
    "TileJSON": "TileJSON",
    "JSON": "JSON",
    "Job ID": "Αναγνωριστικό εργασίας",
    "Process ID": "Αναγνωριστικό διεργασίας",
    "Start": "Έναρξη",
    "Duration": "Διάρκεια",
    "Progress": "Πρόοδος",
    "Status": "Κατάσταση",
    "Message": "Μήνυμα",
    "Job status": "Κατάσταση εργασίας",
    "Parameters": "Παράμετροι",
    "Started processing": "Έναρξη επεξεργασίας",
    "Finished processing": "Τέλος επεξεργασίας",
    "Job result": "Αποτέλεσμα εργασίας",
    "Results": "Αποτελέσματα",
    "Results of job": "Αποτελέσματα της εργασίας",
    "Processes in this service": "Διεργασίες της υπηρεσίας",
    "Inputs": "Είσοδοι",
    "Id": "Αναγνωριστικό",
    "Title": "Τίτλος",
    "Data Type": "Τύπος δεδομένων",
    "Outputs": "Έξοδοι",
    "Execution modes": "Τρόποι εκτέλεσης",
    "Synchronous": "Σύγχρονα",
    "Asynchronous": "Ασύγχρονα",
    "SpatioTemporal Asset Catalog": "Κατάλογος χωροχρονικών πόρων",
    "Type": "Τύπος",
    "Last modified": "Τελευταία αλλαγή",
    "Size": "Μέγεθος",
    "STAC Version": "Έκδοση STAC",
    "Assets": "Πόροι",
    "Last Modified": "Τελευταία αλλαγή",
    "id": "αναγνωριστικό",
    "description": "περιγραφή",
    "extent": "έκταση",
    "cube:dimensions": "cube:dimensions",
    "cube:variables": "cube:variables",
    "Item": "Στοιχείο",
    "TileMatrixSets": "Σύνολα πλεγμάτων πλακιδίων",
    "Tile matrix sets available in this service": "Σύνολα πλεγμάτων πλακιδίων της υπηρεσίας",
    "TileMatrixSet": "Σύνολο πλέγματος πλακιδίων",
    "AsyncAPI document": "Έγγραφο AsyncAPI",
    "A map preview of coverages is not available.": "Δεν υπάρχει προεπισκόπηση χάρτη για καλύψεις.",
    "Download as CoverageJSON": "Λήψη ως CoverageJSON",
    "Vector tiles are not previewed on this map.": "Τα διανυσματικά πλακίδια δεν εμφανίζονται σε αυτόν τον χάρτη.",
    # geoservice's own additions to _base.html
    "Data portal": "Πύλη δεδομένων",
    "Ελληνικά": "Ελληνικά",
    "English": "English",
    "Skip to content": "Μετάβαση στο περιεχόμενο",
    "Main navigation": "Κύρια πλοήγηση",
}
# English needs only what pygeoapi's templates use as a key rather than as text.
ENGLISH = {"text_direction": "ltr"}
LOCALE_DIR = Path(__file__).resolve().parent


def catalogues() -> dict[str, dict[str, str]]:
    return {"el": GREEK, "en": ENGLISH}


def write() -> None:
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import write_po

    for lang, texts in catalogues().items():
        catalog = Catalog(locale=lang, project="geoservice", charset="utf-8")
        for msgid, text in texts.items():
            catalog.add(msgid, text)
        folder = LOCALE_DIR / lang / "LC_MESSAGES"
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "messages.po", "wb") as out:
            write_po(out, catalog, omit_header=True, width=100)
        with open(folder / "messages.mo", "wb") as out:
            write_mo(out, catalog)


if __name__ == "__main__":
    write()
