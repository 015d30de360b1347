// The workflows the worker registers.
export { campaignFanOut } from './campaign-fanout';
export { nurture } from './nurture';
