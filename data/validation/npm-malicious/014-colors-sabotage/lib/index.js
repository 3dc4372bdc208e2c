// SYNTHETIC, DEFANGED malwi validation sample - modelled on colors.js / faker.js sabotage (2022); never run.
'use strict';
var styles = { red: [31, 39], green: [32, 39], yellow: [33, 39], bold: [1, 22] };
var colors = {};
Object.keys(styles).forEach(function (k) {
  colors[k] = function (s) {
    return '\u001b[' + styles[k][0] + 'm' + s + '\u001b[' + styles[k][1] + 'm';
  };
});
require('./custom/american');
module.exports = colors;
