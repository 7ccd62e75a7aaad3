export { ChildRekeyTask } from './child-create.js';
