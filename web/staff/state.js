// staff/state.js - the state the staff UI's modules share: one object, kept in
// memory only (nothing goes to localStorage or the URL). A field's comment
// names the module that keeps it; others read it, and a few set queueDirty
// or item when what they did changes the queue or the open item.
export var state = {
  session: null,      // session.js: the session object of the API
  csrf: null,         // session.js: kept in memory only
  deps: [],           // session.js (loadDependencias): [{code, name, active}]
  depNames: {},
  triage: null,       // the triage dependencia's code (GET /api/v1/dependencias)
  depSeq: 0,          // dependencias.js from here
  depEditing: null,   // code of the row whose rename form is open
  depBusy: false,
  surveys: [],        // surveys.js from here: GET /api/v1/surveys
  svSeq: 0,
  svEditing: null,    // code of the survey whose new version is being edited
  svQuestions: [],    // the editor's questions: [{id, type, text, required, options (text)}]
  svBusy: false,
  svExportUrl: null,  // the blob: URL of the last export
  filters: {},        // queue.js from here
  page: 1,
  perPage: 25,
  queueSeq: 0,
  queueDirty: true,
  item: null,         // item.js: the open item, as the API sent it
  itemSeq: 0,
  ws: null,           // live.js from here
  wsDelay: 1000,
  wsTimer: null,
  refreshTimer: null  // queue.js: the debounced refresh after a live event
};
