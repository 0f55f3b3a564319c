import { createMemoryJobStore } from "../server/memory-job-store.js";
import { describeJobStoreContract } from "./support/job-store-contract.js";

describeJobStoreContract("memory", () => Promise.resolve(createMemoryJobStore()));
