// SYNTHETIC, DEFANGED malwi validation sample - modelled on bb-builder style Windows executable droppers (2019); never run.
module.exports = function build(src) {
  return String(src).replace(/\r\n/g, '\n');
};
