// SYNTHETIC, DEFANGED malwi validation sample - modelled on crypto clipboard-hijacker packages (2021-2024); never run.
'use strict';
function formatPrice(symbol, usd) {
  const n = Number(usd);
  return symbol.toUpperCase().padEnd(6) + (n >= 1 ? n.toFixed(2) : n.toPrecision(4)).padStart(12) + ' USD';
}
module.exports = { formatPrice };
