/*
 * geoservice portal, home page: the search map. Drawing a rectangle or pressing
 * "This area" writes the area into the coordinates field (W,S,E,N) and submits the
 * search form, so the map is only one of the ways to choose an area (the place list
 * and the coordinates field work without it). Result extents are drawn on the map.
 */
(function () {
    'use strict';
    var element = document.getElementById('search-map');
    var form = document.getElementById('search-form');
    var field = document.getElementById('bbox');
    var place = document.getElementById('place');
    if (!element || !form || typeof L === 'undefined') {
        return;
    }

    function numbers(text) {
        var parts = (text || '').split(',').map(Number);
        return parts.length === 4 && parts.every(isFinite) ? parts : null;
    }
    function bounds(b) {
        return L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
    }
    function text(latLngBounds) {
        return [latLngBounds.getWest(), latLngBounds.getSouth(),
                latLngBounds.getEast(), latLngBounds.getNorth()]
            .map(function (v) { return v.toFixed(5); }).join(',');
    }
    function searchArea(latLngBounds) {
        field.value = text(latLngBounds);
        if (place) { place.value = ''; }  // the drawn area replaces a chosen place
        form.submit();
    }

    var map = L.map(element, {keyboard: true});
    window.geoserviceMap.addBasemap(map);
    var chosen = numbers(element.dataset.bbox);
    map.fitBounds(bounds(chosen || numbers(element.dataset.view)));
    if (chosen) {
        L.rectangle(bounds(chosen), {color: '#0b5394', weight: 2, fill: false, dashArray: '6 4'})
            .addTo(map);
    }

    // Each result's extent, linked to its dataset page.
    document.querySelectorAll('.results .result[data-bbox]').forEach(function (item) {
        var b = numbers(item.dataset.bbox);
        var link = item.querySelector('h3 a');
        if (!b || !link) { return; }
        L.rectangle(bounds(b), {color: '#b45309', weight: 1, fillOpacity: 0.08})
            .bindTooltip(link.textContent)
            .on('click', function () { window.location = link.href; })
            .addTo(map);
    });

    if (L.Control.Draw) {
        var title = element.dataset.drawTitle;
        if (L.drawLocal) {
            L.drawLocal.draw.toolbar.buttons.rectangle = title;
        }
        map.addControl(new L.Control.Draw({
            draw: {rectangle: {shapeOptions: {color: '#0b5394'}}, polygon: false, polyline: false,
                   circle: false, marker: false, circlemarker: false},
            edit: false
        }));
        map.on(L.Draw.Event.CREATED, function (event) {
            searchArea(event.layer.getBounds());
        });
    }
    var button = document.getElementById('map-area');
    if (button) {
        button.hidden = false;
        button.addEventListener('click', function () { searchArea(map.getBounds()); });
    }
    if (place) {  // choosing a place searches at once
        place.addEventListener('change', function () { field.value = ''; form.submit(); });
    }
})();
