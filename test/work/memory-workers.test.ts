import { describeWorkContract } from "../support/work-contract.js";

describeWorkContract("memory", () => ({}));
