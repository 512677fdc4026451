/*
 * geoservice: small helpers shared by the map templates.
 *
 * The base map is the only external resource a page may use; its URL and
 * attribution come from config server.map (see templates/_map.html, which
 * sets window.GEOSERVICE_BASEMAP).  When the tiles cannot be loaded
 * (offline), Leaflet leaves the failed tiles hidden and the features are
 * still drawn on the map's plain background.  Nothing here may throw.
 */
(function (global) {
    'use strict';

    function addBasemap(map, options) {
        var cfg = global.GEOSERVICE_BASEMAP || {};
        if (!map || !cfg.url || typeof L === 'undefined') {
            return null;
        }
        try {
            var opts = L.extend({
                maxZoom: 18,
                attribution: cfg.attribution || ''
            }, options || {});
            var layer = L.tileLayer(cfg.url, opts);
            layer.addTo(map);
            return layer;
        } catch (e) {
            if (global.console) {
                console.warn('base map not added:', e);
            }
            return null;
        }
    }

    function fitLayer(map, layer, options) {
        try {
            var bounds = layer.getBounds();
            if (bounds && bounds.isValid()) {
                map.fitBounds(bounds, options || {});
                return true;
            }
        } catch (e) {
            if (global.console) {
                console.warn('could not fit map to layer:', e);
            }
        }
        return false;
    }

    global.geoserviceMap = {
        addBasemap: addBasemap,
        fitLayer: fitLayer
    };
})(window);
