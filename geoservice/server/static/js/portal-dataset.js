/*
 * geoservice portal, dataset page: the preview map (clustered points, styled polygons and
 * lines, popups with the attributes) and the attribute table (paging, sort), both read from
 * the OGC API items endpoint; the download form's "only the area on the map" box.
 */
(function () {
    'use strict';
    var TEXT = window.PORTAL_TEXT || {};

    function format(template, values) {
        return String(template).replace(/\{(\w+)\}/g, function (_, k) { return values[k]; });
    }
    function escape(value) {
        var div = document.createElement('div');
        div.textContent = value === null || value === undefined ? '' : String(value);
        return div.innerHTML;
    }
    function getJSON(url) {
        return fetch(url, {headers: {Accept: 'application/geo+json'}}).then(function (r) {
            if (!r.ok) { throw new Error(r.status + ' ' + url); }
            return r.json();
        });
    }
    function bboxText(b) {
        return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
            .map(function (v) { return v.toFixed(5); }).join(',');
    }

    // -- preview map --------------------------------------------------------------
    var element = document.getElementById('preview-map');
    var map = null;
    if (element && typeof L !== 'undefined') {
        var status = document.getElementById('map-status');
        var points = /Point/.test(element.dataset.geometry);
        map = L.map(element, {keyboard: true});
        window.geoserviceMap.addBasemap(map);
        var extent = element.dataset.bbox.split(',').map(Number);
        if (extent.length === 4 && extent.every(isFinite)) {
            map.fitBounds([[extent[1], extent[0]], [extent[3], extent[2]]]);
        } else {
            map.setView([40.64, 22.94], 12);
        }
        var layer = points && L.markerClusterGroup ? L.markerClusterGroup() : L.featureGroup();
        layer.addTo(map);
        // The fields' labels, as the attribute table's headings show them (in its order;
        // a property the catalogue does not list comes after, by its name).
        var labels = JSON.parse(element.dataset.labels || '[]');
        var popup = function (feature) {
            var props = feature.properties || {};
            var named = labels.filter(function (l) { return l[0] in props; });
            var known = named.map(function (l) { return l[0]; });
            Object.keys(props).forEach(function (k) {
                if (known.indexOf(k) < 0) { named.push([k, k]); }
            });
            var rows = named.map(function (l) {
                return '<tr><th scope="row">' + escape(l[1]) + '</th><td>' +
                    escape(props[l[0]]) + '</td></tr>';
            });
            return '<table class="popup-table">' + rows.join('') + '</table>';
        };
        var request = 0;
        var load = function () {
            var mine = ++request;
            if (status) { status.textContent = TEXT.loading || ''; }
            var url = element.dataset.items + '?f=json&limit=' + element.dataset.limit +
                '&bbox=' + bboxText(map.getBounds());
            getJSON(url).then(function (data) {
                if (mine !== request) { return; }
                layer.clearLayers();
                var geo = L.geoJSON(data, {
                    style: {color: '#0b5394', weight: 2, fillColor: '#3d85c6', fillOpacity: 0.25},
                    pointToLayer: function (f, latlng) {
                        return L.marker(latlng, {alt: String(f.id), keyboard: true});
                    },
                    onEachFeature: function (f, l) { l.bindPopup(popup(f)); }
                });
                layer.addLayer(geo);
                element.dataset.loaded = String(data.numberReturned);
                if (status) {
                    status.textContent = TEXT.shown + ': ' + data.numberReturned + ' / ' +
                        data.numberMatched;
                }
            }).catch(function () {
                if (status) { status.textContent = TEXT.none || ''; }
            });
        };
        map.whenReady(load);
        map.on('moveend', load);
    }

    // -- attribute table ----------------------------------------------------------
    var table = document.getElementById('attribute-table');
    if (table) {
        var body = table.querySelector('tbody');
        var fields = Array.prototype.map.call(table.querySelectorAll('th[data-field]'),
            function (th) { return th.dataset.field; });
        var prev = document.getElementById('table-prev');
        var next = document.getElementById('table-next');
        var tableStatus = document.getElementById('table-status');
        var size = Number(table.dataset.page);
        var state = {offset: 0, sort: null, descending: false, matched: 0};
        var render = function () {
            var url = table.dataset.items + '?f=json&skipGeometry=true&limit=' + size +
                '&offset=' + state.offset;
            if (state.sort) {
                url += '&sortby=' + (state.descending ? '-' : '') + encodeURIComponent(state.sort);
            }
            getJSON(url).then(function (data) {
                state.matched = data.numberMatched;
                body.innerHTML = data.features.map(function (f) {
                    return '<tr>' + fields.map(function (name) {
                        return '<td>' + escape((f.properties || {})[name]) + '</td>';
                    }).join('') + '</tr>';
                }).join('');
                var first = data.numberReturned ? state.offset + 1 : 0;
                tableStatus.textContent = format(TEXT.rows, {
                    first: first, last: state.offset + data.numberReturned, total: data.numberMatched
                });
                prev.disabled = state.offset === 0;
                next.disabled = state.offset + size >= data.numberMatched;
            }).catch(function () { tableStatus.textContent = TEXT.none || ''; });
        };
        prev.addEventListener('click', function () {
            state.offset = Math.max(0, state.offset - size); render();
        });
        next.addEventListener('click', function () { state.offset += size; render(); });
        table.querySelectorAll('th[data-field]').forEach(function (th) {
            th.querySelector('button').addEventListener('click', function () {
                var field = th.dataset.field;
                state.descending = state.sort === field ? !state.descending : false;
                state.sort = field;
                state.offset = 0;
                table.querySelectorAll('th[data-field]').forEach(function (other) {
                    other.setAttribute('aria-sort', 'none');
                });
                th.setAttribute('aria-sort', state.descending ? 'descending' : 'ascending');
                render();
            });
        });
        render();
    }

    // -- downloads: the area on the map ---------------------------------------------
    var only = document.getElementById('map-area-only');
    var area = document.getElementById('download-bbox');
    if (only && area && map) {
        only.disabled = false;
        var sync = function () { if (only.checked) { area.value = bboxText(map.getBounds()); } };
        only.addEventListener('change', function () {
            if (only.checked) { sync(); } else { area.value = ''; }
        });
        map.on('moveend', sync);
    }
    // The CSV options go with a CSV only (a disabled fieldset's fields are not sent).
    var fileFormat = document.getElementById('format');
    var csvOptions = document.getElementById('csv-options');
    if (fileFormat && csvOptions) {
        var toggle = function () { csvOptions.disabled = fileFormat.value !== 'csv'; };
        fileFormat.addEventListener('change', toggle);
        toggle();
    }
})();
