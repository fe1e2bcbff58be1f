"""The network rule and the shipped Fast DDS profile."""

import xml.etree.ElementTree as ET

from sbamti.ros.env import FASTDDS_PROFILE_PATH, ros_environment

NS = {"dds": "http://www.eprosima.com"}
THIRTY_TWO_MIB = 32 * 1024 * 1024


def test_localhost_discovery_is_the_default():
    env = ros_environment({"PATH": "/usr/bin"})
    assert env["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST"
    assert env["FASTDDS_DEFAULT_PROFILES_FILE"] == str(FASTDDS_PROFILE_PATH)
    assert env["RMW_IMPLEMENTATION"] == "rmw_fastrtps_cpp"


def test_user_choices_are_kept():
    env = ros_environment({"ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET", "FASTDDS_DEFAULT_PROFILES_FILE": "/x.xml"})
    assert env["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "SUBNET"
    assert env["FASTDDS_DEFAULT_PROFILES_FILE"] == "/x.xml"


def test_profile_has_a_large_shared_memory_segment_and_is_default():
    root = ET.parse(FASTDDS_PROFILE_PATH).getroot()
    shm = [d for d in root.iterfind(".//dds:transport_descriptor", NS) if d.findtext("dds:type", namespaces=NS) == "SHM"]
    assert len(shm) == 1
    assert int(shm[0].findtext("dds:segment_size", namespaces=NS)) >= THIRTY_TWO_MIB
    participant = root.find(".//dds:participant", NS)
    assert participant.get("is_default_profile") == "true"
    used = {t.text for t in participant.iterfind(".//dds:userTransports/dds:transport_id", NS)}
    assert shm[0].findtext("dds:transport_id", namespaces=NS) in used


def test_the_venv_is_an_ament_prefix():
    import sys
    env = ros_environment({"AMENT_PREFIX_PATH": "/opt/ros/other"})
    assert env["AMENT_PREFIX_PATH"].split(":") == ["/opt/ros/other", sys.prefix]
    assert ros_environment({})["AMENT_PREFIX_PATH"] == sys.prefix
