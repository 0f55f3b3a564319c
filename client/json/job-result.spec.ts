import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { JobSchema } from "../../gen/jobs/v1/job_pb.js";
import { jobInput, jobResult } from "./job-result.js";
import { valueFromJson } from "./value-from-json.js";

describe("jobResult and jobInput", () => {
  it("read a job's result and input back as the JSON values they were given as", () => {
    const result = { files: ["a.png", "b.png"], bytes: 1024, done: true, note: null };
    const job = create(JobSchema, { result: valueFromJson(result, "result"), input: valueFromJson("a.png", "input") });
    expect(jobResult(job)).toEqual(result);
    expect(jobInput(job)).toBe("a.png");
  });

  it("are undefined when the job has none, and null for a JSON null", () => {
    expect(jobResult(create(JobSchema))).toBeUndefined();
    expect(jobInput(create(JobSchema))).toBeUndefined();
    expect(jobResult(create(JobSchema, { result: valueFromJson(null, "result") }))).toBeNull();
  });
});

describe("valueFromJson", () => {
  it("refuses with a RangeError naming the value what JSON cannot carry: NaN, Infinity, undefined inside", () => {
    expect(() => valueFromJson(Number.NaN, "input")).toThrow(/input must be a JSON value/);
    expect(() => valueFromJson([1, Number.POSITIVE_INFINITY], "input")).toThrow(RangeError);
    expect(() => valueFromJson({ a: undefined } as never, "the result")).toThrow(/the result must be a JSON value/);
  });
});
