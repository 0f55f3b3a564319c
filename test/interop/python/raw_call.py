"""One unary gRPC call with grpcio (gRPC's C core) on raw protobuf bytes, so no generated stubs
are needed: argv is the address, the method path, the request as hex and the timeout in seconds.
Prints "OK <response hex>" or "ERROR <code name> <details>"."""
import sys

import grpc

address, method, request_hex, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
with grpc.insecure_channel(address) as channel:
    call = channel.unary_unary(method, request_serializer=None, response_deserializer=None)
    try:
        reply = call(bytes.fromhex(request_hex), timeout=timeout)
        print("OK " + reply.hex(), flush=True)
    except grpc.RpcError as error:
        print("ERROR " + error.code().name + " " + str(error.details()), flush=True)
