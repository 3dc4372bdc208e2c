// SYNTHETIC, DEFANGED malwi validation sample - modelled on ua-parser-js hijack (2021); never run.
(function (window) {
  'use strict';
  var BROWSERS = [
    [/(edge|edga|edg)\/((\d+)?[\w.]+)/i, 'Edge'],
    [/(chrome)\/v?([\w.]+)/i, 'Chrome'],
    [/(firefox)\/([\w.]+)/i, 'Firefox'],
    [/version\/([\w.]+).+?(mobile ?safari|safari)/i, 'Safari']
  ];
  function UAParser(ua) {
    this.ua = ua || (typeof window !== 'undefined' && window.navigator ? window.navigator.userAgent : '');
  }
  UAParser.prototype.getBrowser = function () {
    for (var i = 0; i < BROWSERS.length; i++) {
      var m = BROWSERS[i][0].exec(this.ua);
      if (m) return { name: BROWSERS[i][1], version: m[2] || m[1] };
    }
    return { name: undefined, version: undefined };
  };
  if (typeof module !== 'undefined' && module.exports) module.exports = UAParser;
  else window.UAParser = UAParser;
})(typeof window === 'object' ? window : this);
