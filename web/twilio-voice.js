// The Twilio Voice JavaScript SDK, bundled from its npm package by `npm run build` (esbuild) into
// static/vendor/twilio-voice.min.js: the agent console takes calls in the browser against real Twilio
// with it. Served by the app itself, never from a CDN. Exposes window.Twilio.Device for static/agent.js.
import { Device, Call } from "@twilio/voice-sdk";

window.Twilio = Object.assign(window.Twilio || {}, { Device, Call });
