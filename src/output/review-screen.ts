/** The review screen's modules, under one name for the commands: renderers, terminal plumbing, the loop. */
export { renderDecisionReport, renderItem, renderList, renderShow, renderStats, truncationNote } from './review/render.js';
export { clackPrompts, resolveEditor, systemEditor, type ReviewPrompts, type ReviewScreenIO, type TextEditor } from './review/terminal.js';
export { progressLine, runReviewScreen, summaryLine, type ReviewScreenOptions } from './review/screen.js';
