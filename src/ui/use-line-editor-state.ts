/** The line editor reducer as a React hook; the reducer itself lives in line-editor.ts. */
import { useReducer } from 'react';
import { emptyLineEditor, lineEditorReducer, type LineEditorState } from './line-editor.js';

export * from './line-editor.js';

export function useLineEditorState(initial: LineEditorState = emptyLineEditor) {
  return useReducer(lineEditorReducer, initial);
}
