// The workflows the worker registers.
export { nurture } from './nurture';
