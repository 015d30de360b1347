// Vitest setup file: every test process hashes addresses with the test DATA_SECRET, as a
// process started from the environment does (see db/addresses.ts).
import { useAddressKey } from '../../db/addresses';
import { TEST_CONFIG } from '../e2e/config';

useAddressKey(TEST_CONFIG.dataSecret);
