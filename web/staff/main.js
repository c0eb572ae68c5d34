// staff/main.js - starts the staff UI at /staff: login, the queue of items,
// one item with its history and the actions the user may take, live updates,
// and for the admin role the entity's dependencias and surveys. This file
// only wires each module's controls and checks the session.
//
// Talks only to the staff API (docs/staff-api.md). The page is served with a
// strict Content-Security-Policy (script-src 'self'), so everything here is
// plain DOM: elements are made with createElement and filled with
// textContent; data never goes through innerHTML, so a body containing
// <script> shows as text.
//
// The UI is a set of ES modules in web/staff/ (compiled into the binary like
// the rest of web/, served under /static/staff/), each importing what it
// uses. web/staff.html loads this one with <script type="module"> and lists
// the others as <link rel="modulepreload">, so the browser fetches them all
// at once. Modules may import each other in a circle (session.js routes to
// the views, and they ask session.js which view to show): only functions
// cross such a circle, never a value read while the modules load.
//   labels.js        the Spanish vocabulary of the API's codes; label(), depName()
//   state.js         the state the modules share
//   dom.js           el() and $(), dates and sizes, notices, field errors
//   api.js           fetch with the CSRF token; a lost session goes to the login
//   session.js       login, logout, password change, routing between the views
//   queue.js         the queue: filters, search, table, pager
//   item.js          one item: record, files, answers, messages, timeline
//   actions.js       the item's action forms (respond with its delivery options...)
//   dependencias.js  the admin view and its dependencias
//   surveys.js       the admin view's surveys: list, editor, export, import
//   live.js          the /live feed client
// Each module's header lists the stable selectors it draws (used by
// tests/integration/test_13_staff_browser.py and others).
import { initDependencias } from "./dependencias.js";
import { initItem } from "./item.js";
import { initLive } from "./live.js";
import { initQueue } from "./queue.js";
import { checkSession, initSession } from "./session.js";
import { initSurveys } from "./surveys.js";

function init() {
  initQueue();
  initSession();
  initItem();
  initDependencias();
  initSurveys();
  initLive();
  checkSession();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
