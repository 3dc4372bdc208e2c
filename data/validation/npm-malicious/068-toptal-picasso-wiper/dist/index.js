// SYNTHETIC, DEFANGED malwi validation sample - modelled on the Toptal Picasso compromise (July 2025, token theft and wipe in package.json scripts); never run.
'use strict';
function Form(props) {
  return { type: 'form', props: Object.assign({ noValidate: true }, props) };
}
function Input(props) {
  return { type: 'input', props: Object.assign({ type: 'text' }, props) };
}
module.exports = { Form, Input };
