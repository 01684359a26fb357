"""The distributed herder's request rules, without a broker: writes are refused with 409 while
the group rebalances, leader-only writes on a follower name the leader (REST forwards), and the
advertised URL agrees with the worker id."""

from __future__ import annotations

import pytest
from falcon import testing
from kconnect.rest.app import create_app
from kconnect.runtime.distributed.herder import DistributedHerder, advertised_url
from kconnect.runtime.herder import NotLeaderError, RebalanceInProgressError
from kconnect.runtime.states import TargetState
from kconnect.runtime.worker_config import DistributedWorkerConfig

PROPS = {
    "bootstrap.servers": "127.0.0.1:1",
    "group.id": "g",
    "config.storage.topic": "g-configs",
    "offset.storage.topic": "g-offsets",
    "status.storage.topic": "g-status",
    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    "value.converter": "org.apache.kafka.connect.storage.StringConverter",
    "listeners": "http://127.0.0.1:18083",
    "rest.request.timeout.ms": "5000",
}


class FakeMember:
    def __init__(self, rebalancing: bool):
        self._rebalancing = rebalancing
        self.member_id = "me"

    def rebalancing(self) -> bool:
        return self._rebalancing

    def wakeup(self) -> None:
        pass


def herder_with(member: FakeMember, leader: bool, leader_url: str | None) -> DistributedHerder:
    herder = DistributedHerder(DistributedWorkerConfig(PROPS))
    herder.member = member  # type: ignore[assignment]
    herder._joined.set()
    herder._is_leader = leader
    herder._leader_url = leader_url
    return herder


CONFIG = {"connector.class": "FileStreamSource", "topic": "t", "file": "/dev/null", "name": "c"}


def test_writes_during_a_rebalance_are_refused_with_conflict():
    herder = herder_with(FakeMember(rebalancing=True), leader=True, leader_url="http://l:1/")
    with pytest.raises(RebalanceInProgressError):
        herder._put_connector_config("c", CONFIG, True, None)
    with pytest.raises(RebalanceInProgressError):
        herder._put_target_state("c", TargetState.PAUSED)


def test_leader_only_writes_on_a_follower_name_the_leader():
    herder = herder_with(FakeMember(rebalancing=False), leader=False, leader_url="http://l:1/")
    with pytest.raises(NotLeaderError) as raised:
        herder._put_connector_config("c", CONFIG, True, None)
    assert raised.value.leader_url == "http://l:1/"


def test_rest_answers_409_while_rebalancing_and_when_no_leader_is_known():
    rebalancing = herder_with(FakeMember(rebalancing=True), leader=False, leader_url=None)
    # The herder thread is not running: run requests inline.
    rebalancing._submit = _inline  # type: ignore[method-assign]
    client = testing.TestClient(create_app(rebalancing, rebalancing.config))
    answer = client.simulate_put("/connectors/c/config", json=CONFIG)
    assert answer.status_code == 409
    assert "rebalance" in answer.json["message"]
    no_leader = herder_with(FakeMember(rebalancing=False), leader=False, leader_url=None)
    no_leader._submit = _inline  # type: ignore[method-assign]
    client = testing.TestClient(create_app(no_leader, no_leader.config))
    answer = client.simulate_put("/connectors/c/config", json=CONFIG)
    assert answer.status_code == 409, answer.text


def _inline(fn, *args):
    import concurrent.futures

    future: concurrent.futures.Future = concurrent.futures.Future()
    try:
        future.set_result(fn(*args))
    except BaseException as error:  # noqa: BLE001
        future.set_exception(error)
    return future


def test_advertised_url_agrees_with_the_worker_id():
    config = DistributedWorkerConfig({**PROPS, "listeners": "http://0.0.0.0:8083"})
    host, _, port = config.worker_id.rpartition(":")
    assert host not in ("0.0.0.0", "")
    assert advertised_url(config) == f"http://{config.worker_id}/"
    named = DistributedWorkerConfig(
        {**PROPS, "rest.advertised.host.name": "w1", "rest.advertised.port": "9000"}
    )
    assert named.worker_id == "w1:9000"
    assert advertised_url(named) == "http://w1:9000/"


def test_a_follower_signs_task_configs_with_a_key_written_before_it_started(monkeypatch):
    from kconnect.rest import forwarding
    from kconnect.runtime.distributed.protocol import ConnectProtocolCompatibility
    from kconnect.storage.config_backing_store import ClusterConfigState, SessionKeyRecord

    herder = herder_with(FakeMember(rebalancing=False), leader=False, leader_url="http://l:1/")
    herder.session_keys.protocol = ConnectProtocolCompatibility.SESSIONED
    # Read by the store during start, so its listener never heard of it.
    key = SessionKeyRecord(b"k" * 32, "HmacSHA256", 1)
    herder.session_keys._snapshot = lambda: ClusterConfigState(offset=3, session_key=key)
    sent = []
    monkeypatch.setattr(forwarding, "internal_request", lambda *args, **kw: sent.append(args))
    herder._send_task_configs("http://l:1/", "c", [{"task.class": "T"}])
    assert sent and sent[0][4] is key


def test_session_keys_rotate_when_expired_and_sign_only_when_sessioned():
    from kconnect.runtime.distributed.protocol import ConnectProtocolCompatibility
    from kconnect.runtime.distributed.session_keys import SessionKeys
    from kconnect.storage.config_backing_store import ClusterConfigState, SessionKeyRecord

    written: list[SessionKeyRecord] = []
    config = DistributedWorkerConfig({**PROPS, "inter.worker.key.ttl.ms": "1000"})
    old = SessionKeyRecord(b"o" * 32, "HmacSHA256", 0)  # created in 1970: long expired
    keys = SessionKeys(config, lambda: ClusterConfigState(session_key=old), written.append)
    keys.protocol = ConnectProtocolCompatibility.COMPATIBLE
    keys.rotate_if_due()
    assert written == [] and keys.key_for_signing() is None
    keys.protocol = ConnectProtocolCompatibility.SESSIONED
    keys.rotate_if_due()
    assert len(written) == 1 and written[0].key != old.key and len(written[0].key) == 32
    assert keys.key_for_signing() is written[0]
    keys.rotate_if_due()  # fresh now: not rewritten
    assert len(written) == 1


def test_bad_signature_algorithm_is_refused_at_start():
    from kconnect.api.errors import ConfigException

    with pytest.raises(ConfigException, match="inter.worker.signature.algorithm"):
        DistributedHerder(
            DistributedWorkerConfig({**PROPS, "inter.worker.signature.algorithm": "HmacNope"})
        )
