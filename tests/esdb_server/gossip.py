"""The Gossip service: a cluster of one, the leader, alive, at this server's address.

esdbclient reads gossip only for `esdb+discover://` (and for more than one target): it picks
the single leader (NodePreference=leader), and with a one-member answer it keeps the
connection it already has.
"""

from __future__ import annotations

import grpc  # type: ignore[import-untyped]
from esdbclient.protos.Grpc import gossip_pb2, gossip_pb2_grpc, shared_pb2

from tests.esdb_server.service import SharedState
from tests.esdb_server.wire import ticks_now


def register(server: grpc.Server, shared: SharedState) -> None:
    """Add the Gossip service to `server`."""
    gossip_pb2_grpc.add_GossipServicer_to_server(GossipServicer(shared), server)  # type: ignore[no-untyped-call]


class GossipServicer(gossip_pb2_grpc.GossipServicer):
    """EventStoreDB's `event_store.client.gossip.Gossip`."""

    def __init__(self, shared: SharedState) -> None:
        self._shared = shared

    def Read(  # noqa: N802
        self, request: shared_pb2.Empty, context: grpc.ServicerContext
    ) -> gossip_pb2.ClusterInfo:
        """This node, as the leader of a cluster of one."""
        member = gossip_pb2.MemberInfo(
            instance_id=shared_pb2.UUID(string=str(self._shared.instance_id)),
            time_stamp=ticks_now(),
            state=gossip_pb2.MemberInfo.Leader,
            is_alive=True,
            http_end_point=gossip_pb2.EndPoint(address=self._shared.host, port=self._shared.port),
        )
        return gossip_pb2.ClusterInfo(members=[member])
